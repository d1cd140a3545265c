package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.BenchReport;
import dev.agentevents.bench.Meter;
import dev.agentevents.bench.Pacer;
import dev.agentevents.bench.Series;

import dev.agentevents.devstack.WarmUp;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.producer.AgentSimulator;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The {@code throughput} and {@code latency} scenarios: the pipeline (publisher → router → fanout → WebSocket
 * clients) against the bare Kafka path (producer → map-only Kafka Streams → consumer) with the same guarantee,
 * commit interval and partitions, alternating round by round on one embedded broker.
 */
public final class PipelineScenarios {

    /**
     * Settings shared by the scenarios; {@code streamThreads} is the Kafka Streams threads of the router and of the
     * bare hop alike (throughput and latency).
     */
    public record Settings(int rounds, double seconds, double warmupSeconds, int users, int partitions, int streamThreads) {
    }

    /** Events allowed between sender and receiver when saturating: enough to keep every stage busy. */
    public static final long MAX_IN_FLIGHT = 20_000;

    private final EmbeddedStack stack;
    private final Settings settings;
    private final PrintStream progress;
    private final List<String> users;
    private final EventPool pool;
    private int prefixes;

    public PipelineScenarios(EmbeddedStack stack, Settings settings, PrintStream progress) throws InterruptedException {
        this.stack = stack;
        this.settings = settings;
        this.progress = progress;
        this.users = AgentSimulator.Settings.users("bench-user-", settings.users());
        this.pool = EventPool.of(users, Math.max(50, settings.users() * 3), stack.registryUrl(),
                stack.topics().events());
        progress.printf("event pool: %,d realistic events, %.0f bytes on average%n", pool.size(),
                pool.averageValueBytes());
    }

    private String prefix(String what) {
        return "bench-" + what + "-" + (++prefixes) + "-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    }

    /** Events per second the throughput scenario's event pool is sized for, over a round's warm-up and measurement. */
    static final int THROUGHPUT_POOL_RATE = 30_000;

    /**
     * Saturates the pipeline and the bare end-to-end path ({@link BareEndToEnd}) in turn, round by round, each fed
     * the same pre-encoded events from one pool by a raw producer (only the current time is stamped in per send) and
     * read by the same WebSocket clients; reports events/s both ways and the ratio. The pipeline takes each event of
     * the pool once per round (it would drop a second lap as duplicates) and every round starts it afresh, so the pool
     * is sized for {@value #THROUGHPUT_POOL_RATE} events/s; a pipeline that runs out fails the round.
     */
    public BenchReport throughput(String guarantee, Duration commit) throws Exception {
        BenchReport report = new BenchReport("throughput");
        String label = label(guarantee, commit);
        int poolEvents = (int) (THROUGHPUT_POOL_RATE * (settings.warmupSeconds() + settings.seconds()));
        progress.printf("building %,d events to send (the simulator's runs, encoded once) ...%n", poolEvents);
        EventPool events = EventPool.of(users, Math.max(1, poolEvents / 15), stack.registryUrl(),
                stack.topics().events());
        progress.printf("  %,d events, %.0f bytes on average%n", events.size(), events.averageValueBytes());
        Series bare = report.series("bare end to end (producer → Streams hop → Vert.x + consumer → WebSocket), "
                + label);
        Series pipeline = report.series("pipeline (producer → router → fanout node → WebSocket), " + label);
        for (int round = 1; round <= settings.rounds(); round++) {
            progress.printf("round %d/%d: bare end to end at full speed ...%n", round, settings.rounds());
            Meter bareMeter = new Meter();
            try (BareEndToEnd path = new BareEndToEnd(stack, prefix("bare"), guarantee, commit,
                    settings.partitions(), settings.streamThreads(), users, events.typical(), bareMeter)) {
                bare.add(drive(events::next, path::send, 0, bareMeter));
            }
            progress.printf("round %d/%d: pipeline at full speed ...%n", round, settings.rounds());
            Meter pipelineMeter = new Meter();
            try (PipelineUnderTest under = new PipelineUnderTest(stack, prefix("pipe"), guarantee, commit,
                    settings.partitions(), settings.streamThreads(), users, pipelineMeter)) {
                EventPool.Cursor once = events.once();
                pipeline.add(drive(once::next, under::sendRaw, 0, pipelineMeter));
            }
            progress.printf("  bare %s events/s, pipeline %s events/s%n", BenchReport.fmt(bare.rounds.get(round - 1)
                    .perSecondRate()), BenchReport.fmt(pipeline.rounds.get(round - 1).perSecondRate()));
        }
        double ratio = pipeline.rate() / bare.rate();
        report.target("pipeline events/s ÷ bare end-to-end path events/s", ratio, "≥ 0.6", ratio >= 0.6);
        report.target("pipeline events/s end to end", pipeline.rate(), "≥ 50,000", pipeline.rate() >= 50_000);
        report.extra().put("ratio", ratio);
        report.note("Both sides: " + events.size() + " pre-encoded simulator events (" + Math.round(
                events.averageValueBytes()) + " bytes on average) sent by a raw producer (acks all, idempotent, lz4, "
                + "linger 5 ms) to " + settings.partitions() + " partitions, at most " + MAX_IN_FLIGHT + " in flight, "
                + "to " + settings.users() + " WebSocket clients that parse every frame, one socket per user. The bare "
                + "path copies each record through a Streams hop with the same guarantee and commit interval and "
                + "pushes a pre-rendered frame of the same size (the pool's typical event); the pipeline validates, "
                + "orders and chains each event, renders its frame and keeps resume state (and checked each client's "
                + "token when it connected). Everything "
                + "shares this machine's " + Runtime.getRuntime().availableProcessors() + " cores in one JVM.");
        return report;
    }

    /**
     * First the pipeline's first seconds after a fresh start ({@link #coldStart}), then fixed rates for each
     * configuration; p50/p99/p99.9/max both ways.
     */
    public BenchReport latency(List<Integer> rates, List<String> configs, double coldSeconds, boolean warmUp)
            throws Exception {
        BenchReport report = new BenchReport("latency");
        coldStart(report, coldSeconds);
        for (String config : configs) {
            String guarantee = config.startsWith("alos") ? StreamsConfig.AT_LEAST_ONCE : StreamsConfig.EXACTLY_ONCE_V2;
            Duration commit = Duration.ofMillis(Long.parseLong(config.substring(config.indexOf(':') + 1)));
            String label = label(guarantee, commit);
            Meter bareMeter = new Meter();
            Meter pipelineMeter = new Meter();
            progress.printf("%s: starting the bare hop and the pipeline ...%n", label);
            try (BareStreamsHop hop = new BareStreamsHop(stack, prefix("bare"), guarantee, commit,
                    settings.partitions(), settings.streamThreads(), bareMeter);
                 PipelineUnderTest under = new PipelineUnderTest(stack, prefix("pipe"), guarantee, commit,
                         settings.partitions(), settings.streamThreads(), users, pipelineMeter)) {
                hop.awaitRunning();
                if (warmUp) {
                    // the first seconds of a fresh hop or pipeline are the cold-start series' business
                    progress.printf("%s: one round of each at %,d/s to warm up (not counted) ...%n", label,
                            rates.get(0));
                    drive(pool::next, hop::send, rates.get(0), bareMeter);
                    under.drive(rates.get(0), pipelineMeter, Long.MAX_VALUE);
                    measure(pipelineMeter);
                    under.stopDriving();
                }
                for (int rate : rates) {
                    Series bare = report.series("bare hop, " + label + ", " + rate + "/s");
                    Series pipeline = report.series("pipeline, " + label + ", " + rate + "/s");
                    for (int round = 1; round <= settings.rounds(); round++) {
                        bare.add(drive(pool::next, hop::send, rate, bareMeter));
                        under.drive(rate, pipelineMeter, Long.MAX_VALUE);
                        pipeline.add(measure(pipelineMeter));
                        under.stopDriving();
                        Thread.sleep(300);
                    }
                    progress.printf("  %s at %,d/s: p99 bare %s ms, pipeline %s ms%n", label, rate,
                            BenchReport.ms(bare.p(99)), BenchReport.ms(pipeline.p(99)));
                    if (rate == 5000 && config.equals("eos:50")) {
                        double ratio = pipeline.p(99) / bare.p(99);
                        report.target("pipeline p99 ÷ bare hop p99 at 5,000/s, " + label, ratio, "≤ 1.3",
                                ratio <= 1.3);
                        report.target("pipeline p99 at 5,000/s, " + label + " (ms)", pipeline.p(99), "≤ 100",
                                pipeline.p(99) <= 100);
                    }
                }
            }
        }
        report.note((warmUp ? "Each configuration's bare hop and pipeline ran one uncounted round at the first "
                + "rate before the series; the cold-start series measures a fresh pipeline. " : "")
                + "Latency runs from the event's creation (the publisher's occurredAt; the bare producer's record "
                + "timestamp) to its arrival (the WebSocket client has parsed the frame; the bare consumer has the "
                + "record), on one clock: everything runs in this JVM.");
        return report;
    }

    /** Events per second of the cold-start series: the rate of the devstack probe in issue 16. */
    static final int COLD_START_RATE = 1000;

    /**
     * A pipeline started in this JVM before any other (its code not compiled yet, its groups and transactions new),
     * driven at {@link #COLD_START_RATE} from the moment it is ready as the devstack says READY — the router
     * running, the node owning every partition, the clients connected, the devstack's {@link WarmUp} done — and
     * measured from that moment on, with no warm-up of the measurement, for {@code seconds}.
     */
    private void coldStart(BenchReport report, double seconds) throws Exception {
        Series cold = report.series("pipeline, first " + (int) seconds + " s after start, exactly_once_v2, "
                + "commit 50 ms, " + COLD_START_RATE + "/s");
        progress.printf("cold start: a fresh pipeline, measured from the moment it is ready ...%n");
        Meter meter = new Meter();
        try (PipelineUnderTest under = new PipelineUnderTest(stack, prefix("cold"), StreamsConfig.EXACTLY_ONCE_V2,
                Duration.ofMillis(50), settings.partitions(), settings.streamThreads(), users, meter)) {
            under.warmUp();
            under.drive(COLD_START_RATE, meter, Long.MAX_VALUE);
            cold.add(Meter.measure(meter, seconds));
            under.stopDriving();
        }
        progress.printf("  first %.0f s after start at %,d/s: p50 %s ms, p99 %s ms, max %s ms%n", seconds,
                COLD_START_RATE, BenchReport.ms(cold.p(50)), BenchReport.ms(cold.p(99)),
                BenchReport.ms(cold.rounds.get(0).maxMillis()));
        report.target("pipeline p99 in the first " + (int) seconds + " s after start at "
                + COLD_START_RATE + "/s (ms)", cold.p(99), "≤ 300", cold.p(99) <= 300);
    }

    private String label(String guarantee, Duration commit) {
        return (guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2) ? "exactly_once_v2" : "at_least_once") + ", commit "
                + commit.toMillis() + " ms" + (settings.streamThreads() == 1 ? ""
                : ", " + settings.streamThreads() + " stream threads");
    }

    /**
     * Sends {@code events} with {@code send} at {@code rate} on a thread of its own, and measures. Rate 0 means as
     * fast as the path takes them: the driver holds while more than {@link #MAX_IN_FLIGHT} are on their way. A
     * failure to send (the events ran out, say) fails the measurement rather than leaving it to count silence.
     */
    private Meter.Sample drive(Supplier<EventPool.Entry> events, BiConsumer<byte[], byte[]> send, double rate,
                               Meter meter) throws InterruptedException {
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread driver = new Thread(() -> {
            Pacer pacer = new Pacer(rate);
            long sent = 0;
            long arrivedBefore = meter.arrivals();
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    if (rate <= 0 && sent - (meter.arrivals() - arrivedBefore) > MAX_IN_FLIGHT) {
                        LockSupport.parkNanos(200_000);
                        continue;
                    }
                    pacer.await();
                    EventPool.Entry entry = events.get();
                    send.accept(entry.key(), entry.value());
                    sent++;
                }
            } catch (RuntimeException e) {
                failure.set(e);
            }
        }, "bench-driver");
        driver.start();
        try {
            Meter.Sample sample = measure(meter);
            if (failure.get() != null) {
                throw new IllegalStateException("the driver stopped sending: " + failure.get().getMessage(),
                        failure.get());
            }
            return sample;
        } finally {
            driver.interrupt();
            driver.join(10_000);
        }
    }

    private Meter.Sample measure(Meter meter) throws InterruptedException {
        Thread.sleep((long) (settings.warmupSeconds() * 1000));
        return Meter.measure(meter, settings.seconds());
    }
}
