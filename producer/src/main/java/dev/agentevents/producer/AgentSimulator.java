package dev.agentevents.producer;

import dev.agentevents.event.AgentInfo;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Plays realistic agent runs for a set of users at a given rate, through an {@link EventPublisher}: thinking,
 * several tool calls (some failing), streamed answer text, completion, and now and then a failed run. Every user
 * always has {@code runsPerUser} runs in progress; their steps are interleaved. Used by the demo, the benchmarks
 * and the fault tests, which follow every acknowledgement through the {@link Listener}.
 */
public final class AgentSimulator implements AutoCloseable {

    /**
     * @param users         user ids to play runs for
     * @param eventsPerSecond total publishing rate; 0 or less means as fast as the publisher takes them
     * @param failureRate   share of runs that end in {@code agent_failed}
     * @param runsPerUser   runs in progress per user at any time
     * @param maxRuns       stop starting runs after this many (0: no limit); runs in progress finish
     * @param seed          makes the content repeatable
     */
    public record Settings(List<String> users, double eventsPerSecond, double failureRate, int runsPerUser,
                           long maxRuns, long seed) {
        public Settings {
            users = List.copyOf(users);
            if (users.isEmpty()) {
                throw new IllegalArgumentException("the simulator needs at least one user");
            }
            if (failureRate < 0 || failureRate > 1) {
                throw new IllegalArgumentException("failure rate " + failureRate + " must be between 0 and 1");
            }
            if (runsPerUser < 1) {
                throw new IllegalArgumentException("runs per user " + runsPerUser + " must be at least 1");
            }
        }

        /** {@code count} users named {@code prefix1 .. prefixN}. */
        public static List<String> users(String prefix, int count) {
            List<String> users = new ArrayList<>(count);
            for (int i = 1; i <= count; i++) {
                users.add(prefix + i);
            }
            return users;
        }
    }

    /** Told about every acknowledgement and every failure; called on the producer's I/O thread. */
    public interface Listener {
        default void published(Published event) {
        }

        default void failed(Throwable error) {
        }
    }

    /** Counts so far. */
    public record Stats(long sent, long acknowledged, long failed, long runsStarted, long runsEnded) {
    }

    private final EventPublisher publisher;
    private final Settings settings;
    private final Listener listener;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong runsStarted = new AtomicLong();
    private final AtomicLong runsEnded = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean finishing;
    private volatile java.util.function.BooleanSupplier hold = () -> false;

    public AgentSimulator(EventPublisher publisher, Settings settings, Listener listener) {
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.thread = new Thread(this::play, "agent-simulator");
        this.thread.setDaemon(true);
    }

    /**
     * Pauses publishing while {@code condition} is true (checked before every event); benchmarks use it to keep
     * the backlog between the publisher and the far end bounded, so a saturating publisher does not spend the CPU
     * the rest of the pipeline needs on a queue nobody drains.
     */
    public AgentSimulator holdWhile(java.util.function.BooleanSupplier condition) {
        this.hold = condition;
        return this;
    }

    public AgentSimulator start() {
        thread.start();
        return this;
    }

    public Stats stats() {
        return new Stats(sent.get(), acknowledged.get(), failed.get(), runsStarted.get(), runsEnded.get());
    }

    /** Whether every run it started has ended (only after {@code maxRuns} were started). */
    public boolean isFinished() {
        return !thread.isAlive();
    }

    /** Waits until the simulator has played {@code maxRuns} runs to their end, or the timeout passes. */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
        thread.join(timeout.toMillis());
        return !thread.isAlive();
    }

    private static final class Active {
        final String userId;
        final Deque<RunScript.Step> steps;

        Active(String userId, List<RunScript.Step> steps) {
            this.userId = userId;
            this.steps = new ArrayDeque<>(steps);
        }
    }

    private void play() {
        Random random = new Random(settings.seed());
        AgentInfo agent = AgentInfo.newBuilder().setId("research-agent").setName("Research assistant")
                .setVersion("2.4.1").setModel("gpt-5.1-mini").build();
        List<Active> active = new ArrayList<>();
        for (String user : settings.users()) {
            for (int r = 0; r < settings.runsPerUser(); r++) {
                Active next = newRun(user, random, agent);
                if (next != null) {
                    active.add(next);
                }
            }
        }
        long intervalNanos = settings.eventsPerSecond() > 0 ? (long) (1e9 / settings.eventsPerSecond()) : 0;
        long nextAt = System.nanoTime();
        int cursor = 0;
        while (!stopping && !active.isEmpty()) {
            if (intervalNanos > 0) {
                long wait = nextAt - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                nextAt += intervalNanos;
            }
            while (hold.getAsBoolean() && !stopping) {
                LockSupport.parkNanos(200_000);
            }
            cursor = (cursor + 1 + random.nextInt(3)) % active.size();
            Active current = active.get(cursor);
            step(current);
            if (current.steps.isEmpty()) {
                runsEnded.incrementAndGet();
                Active next = stopping ? null : newRun(current.userId, random, agent);
                if (next != null) {
                    active.set(cursor, next);
                } else {
                    active.remove(cursor);
                    cursor = 0;
                }
            }
        }
    }

    private Active newRun(String userId, Random random, AgentInfo agent) {
        if (finishing || (settings.maxRuns() > 0 && runsStarted.get() >= settings.maxRuns())) {
            return null;
        }
        long number = runsStarted.getAndIncrement();
        return new Active(userId, RunScript.plan(publisher, userId, (int) number, random, settings.failureRate(),
                agent));
    }

    private void step(Active current) {
        RunScript.Step step = current.steps.poll();
        CompletableFuture<Published> future;
        try {
            future = step.perform(null);
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            listener.failed(e);
            current.steps.clear();
            return;
        }
        sent.incrementAndGet();
        future.whenComplete((published, error) -> {
            if (error != null) {
                failed.incrementAndGet();
                listener.failed(error);
            } else {
                acknowledged.incrementAndGet();
                listener.published(published);
            }
        });
    }

    /** Starts no more runs and plays the ones in progress to their end; {@link #awaitFinished} waits for that. */
    public void finish() {
        finishing = true;
    }

    /** Stops after the current step; runs in progress are left as they are (the router will close them). */
    public void stop() {
        stopping = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
