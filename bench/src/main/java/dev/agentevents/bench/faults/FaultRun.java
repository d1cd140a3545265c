package dev.agentevents.bench.faults;

import dev.agentevents.devstack.LocalCluster;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.fanout.Hs256Tokens;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.Published;
import dev.agentevents.producer.PublisherConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fault-injection run: the multi-process local cluster (3 brokers, RF 3, min.insync.replicas 2, the registry,
 * 2 routers, 2 fanout nodes), simulated agents for many users publishing steadily, and a resuming WebSocket client
 * per user. Once clients are shown what the agents publish, the {@link FaultInjector} brings the faults in turn;
 * then every run is played to its end and what was acknowledged is compared with what every client saw: lost,
 * repeated, out of order, shown to the wrong user, runs without an end, deliveries stopped by a registry outage;
 * plus, per fault, what it cost ({@link FaultAudit}), written by {@link FaultReport}.
 */
public final class FaultRun {

    /**
     * @param downSeconds how long a killed process stays down
     * @param outageSeconds how long the registry, or all brokers, stay down
     * @param settleSeconds steady load before the first fault and between faults (short mode)
     * @param keepLogs keep the processes' logs (and the cluster's data) even when every check passed
     * @param kinds the faults, injected in turn (a subset of {@link #KINDS}, in any order)
     */
    public record Settings(int users, double rate, boolean longMode, int minutes, double downSeconds, double outageSeconds,
                    double settleSeconds, boolean keepLogs, List<String> kinds) {
        public Settings {
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("no faults to inject: name one or more of " + KINDS);
            }
            for (String kind : kinds) {
                if (!KINDS.contains(kind)) {
                    throw new IllegalArgumentException("unknown fault '" + kind + "': use one or more of " + KINDS);
                }
            }
            kinds = List.copyOf(kinds);
        }
    }

    /** Every fault the audit knows, in the order a default run injects them. */
    public static final List<String> KINDS = FaultInjector.CYCLE;

    private final Settings settings;
    private final PrintStream progress;

    public FaultRun(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** Runs it; returns the Markdown table (also written with the JSON into {@code out}); true counts in the JSON. */
    public FaultReport.Result run(Path out) throws Exception {
        long t0 = System.nanoTime();
        Path dir = Files.createTempDirectory("agent-events-faults");
        LocalCluster cluster = LocalCluster.start(LocalCluster.Options.defaults(dir),
                step -> progress.printf("[%5.1fs] %s ...%n", (System.nanoTime() - t0) / 1e9, step));
        boolean passed = false;
        try {
            List<String> users = AgentSimulator.Settings.users("fault-user-", settings.users());
            List<String> nodes = cluster.services().stream().filter(s -> s.name().startsWith("fanout"))
                    .map(LocalCluster.Service::address).toList();
            int maxSeconds = settings.longMode() ? settings.minutes() * 60 + 600 : 900;
            Map<String, Published> acknowledged = new ConcurrentHashMap<>();
            AtomicLong failedSends = new AtomicLong();
            List<FaultAudit.Fault> faults = new ArrayList<>();
            FaultInjector injector = new FaultInjector(cluster, settings, progress);
            try (AuditClients clients = new AuditClients(users, nodes, user -> Hs256Tokens.issue(
                    cluster.demoSecret(), user, Duration.ofHours(24)), maxSeconds);
                 EventPublisher publisher = EventPublisher.create(new PublisherConfig(
                         PublisherConfig.of(cluster.bootstrapServers(), cluster.registryUrl()).kafka(),
                         cluster.registryUrl(), dev.agentevents.schemas.Topics.defaults(),
                         PublisherConfig.DEFAULT_MAX_PAYLOAD_BYTES, 32L * 1024 * 1024, 60_000, 300_000, 5, "lz4"))) {
                progress.printf("%d clients connecting ...%n", users.size());
                clients.awaitWelcomed(Duration.ofMinutes(2));
                progress.printf("[%6.1fs] every client connected; agents publishing %.0f events/s ...%n",
                        (System.nanoTime() - t0) / 1e9, settings.rate());
                AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users,
                        settings.rate(), 0.05, 1, 0, 11), new AgentSimulator.Listener() {
                    @Override
                    public void published(Published event) {
                        acknowledged.put(event.eventId(), event);
                    }

                    @Override
                    public void failed(Throwable error) {
                        failedSends.incrementAndGet();
                    }
                }).start();
                progress.println("waiting until clients are shown what the agents publish ...");
                if (!awaitFlowing(injector, acknowledged, clients, t0, Duration.ofMinutes(5))) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "the pipeline did not start "
                            + "delivering within 5 minutes: %,d of %,d acknowledged events not shown, routers %d ms "
                            + "behind", missing(acknowledged, clients), acknowledged.size(),
                            injector.routersBehindMs()));
                }
                sleep(settings.settleSeconds());
                // short: each fault once; long: one fault a minute, in turn
                List<String> kinds = settings.kinds();
                int count = settings.longMode() ? settings.minutes() : kinds.size();
                for (int i = 0; i < count; i++) {
                    long minuteStart = System.nanoTime();
                    progress.printf("[%6.1fs] fault %d/%d · %,d events acknowledged · %,d shown to clients%n",
                            (minuteStart - t0) / 1e9, i + 1, count, acknowledged.size(), clients.delivered());
                    faults.add(injector.inject(kinds.get(i % kinds.size()), i / kinds.size(), clients.startedAtMs));
                    // the next fault (or the end) meets a pipeline that has recovered from this one, so this
                    // fault's window holds its whole cost, and the next is measured on its own
                    if (!awaitFlowing(injector, acknowledged, clients, t0, Duration.ofMinutes(3))) {
                        progress.printf("[%6.1fs] not flowing again within 3 minutes; going on%n",
                                (System.nanoTime() - t0) / 1e9);
                    }
                    double spent = (System.nanoTime() - minuteStart) / 1e9;
                    sleep(settings.longMode() ? Math.max(settings.settleSeconds(), 60 - spent)
                            : settings.settleSeconds());
                }
                progress.println("faults done; letting every run finish ...");
                long finishingAt = System.currentTimeMillis() - clients.startedAtMs;
                simulator.finish();
                simulator.awaitFinished(Duration.ofMinutes(3));
                publisher.flush();
                // late is not lost: wait while the pipeline is still recovering from the last fault (up to 10
                // minutes), and stop once nothing new has been shown for 3 minutes
                long hardDeadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
                long lastProgress = System.nanoTime();
                long missing = Long.MAX_VALUE;
                int polls = 0;
                while (System.nanoTime() < hardDeadline
                        && System.nanoTime() - lastProgress < Duration.ofMinutes(3).toNanos()) {
                    long now = missing(acknowledged, clients);
                    if (now == 0) {
                        break;
                    }
                    if (now < missing) {
                        lastProgress = System.nanoTime();
                    }
                    missing = now;
                    if (polls++ % 20 == 0) {
                        progress.printf("[%6.1fs] %,d of %,d acknowledged events not shown yet%n",
                                (System.nanoTime() - t0) / 1e9, missing, acknowledged.size());
                    }
                    Thread.sleep(500);
                }
                Thread.sleep(2000);
                FaultReport.Result result = audit(acknowledged, failedSends.get(), clients, faults, finishingAt,
                        (System.nanoTime() - t0) / 1e9);
                String name = settings.longMode() ? "faults-long" : "faults";
                result.write(out, name);
                Path lost = FaultReport.writeLost(out, name, acknowledged, clients);
                if (lost != null) {
                    progress.println("lost events listed in " + lost);
                }
                passed = result.passed();
                return result;
            }
        } finally {
            progress.println("stopping the local cluster ...");
            cluster.close();
            if (passed && !settings.keepLogs()) {
                EmbeddedKafka.deleteRecursively(dir);
            } else {
                progress.println("the processes' logs are kept under " + dir.resolve("logs"));
            }
        }
    }

    /**
     * Waits until the pipeline shows clients what the agents publish (at most one second of events not shown yet)
     * and the routers have read their input up to the present, so a fault meets a warm pipeline rather than one
     * still assigning its tasks or recovering from the fault before; false after {@code limit}. Shows how far
     * behind the routers are every 15 s.
     */
    private boolean awaitFlowing(FaultInjector injector, Map<String, Published> acknowledged, AuditClients clients,
                                 long t0, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        long nextReport = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            long notShown = missing(acknowledged, clients);
            long behind = injector.routersBehindMs();
            if (acknowledged.size() >= 2 * settings.rate() && notShown <= settings.rate() && behind >= 0
                    && behind < FaultAudit.ROUTERS_CAUGHT_UP_MS) {
                progress.printf("[%6.1fs] flowing: %,d events acknowledged, %,d not shown yet%n",
                        (System.nanoTime() - t0) / 1e9, acknowledged.size(), notShown);
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            if (System.nanoTime() > nextReport) {
                progress.printf("[%6.1fs] not flowing yet: %,d of %,d acknowledged events not shown yet, routers "
                        + "%.1f s behind%n", (System.nanoTime() - t0) / 1e9, notShown, acknowledged.size(),
                        behind / 1000.0);
                nextReport += Duration.ofSeconds(15).toNanos();
            }
            Thread.sleep(500);
        }
    }

    private static long missing(Map<String, Published> acknowledged, AuditClients clients) {
        long missing = 0;
        for (Published event : acknowledged.values()) {
            AuditClients.Client client = clients.clients.get(event.userId());
            if (client == null || !client.received.containsKey(event.eventId())) {
                missing++;
            }
        }
        return missing;
    }

    /** Compares what was acknowledged with what every client saw, and what each fault cost. */
    private FaultReport.Result audit(Map<String, Published> acknowledged, long failedSends, AuditClients clients,
                                     List<FaultAudit.Fault> faults, long finishingAt, double seconds) {
        long duplicates = 0;
        long order = 0;
        long otherUsers = 0;
        long gaps = 0;
        long reconnects = 0;
        long repeats = 0;
        List<List<FaultAudit.Delivery>> deliveries = new ArrayList<>();
        for (AuditClients.Client client : clients.clients.values()) {
            duplicates += client.duplicates.get();
            repeats += client.repeatsDropped.get();
            order += client.orderViolations.get();
            otherUsers += client.otherUsers.get();
            gaps += client.gaps.get();
            reconnects += Math.max(0, client.connections.get() - 1);
            synchronized (client.deliveries) {
                deliveries.add(new ArrayList<>(client.deliveries));
            }
        }
        Map<String, String> userOfRun = new ConcurrentHashMap<>();
        acknowledged.values().forEach(e -> userOfRun.put(e.runId(), e.userId()));
        long unfinished = userOfRun.entrySet().stream()
                .filter(run -> !clients.clients.get(run.getValue()).sawEnd(run.getKey())).count();
        FaultReport.Checks checks = new FaultReport.Checks(acknowledged.size(), failedSends, userOfRun.size(),
                missing(acknowledged, clients), duplicates, order, otherUsers, unfinished, gaps, repeats, reconnects);
        long[] perBucket = new long[clients.deliveriesPer100Ms.length()];
        for (int b = 0; b < perBucket.length; b++) {
            perBucket[b] = clients.deliveriesPer100Ms.get(b);
        }
        List<FaultReport.Row> rows = new ArrayList<>();
        if (!faults.isEmpty()) {
            // what users wait without any fault (between runs, agents thinking): the floor the fault rows stand on
            long first = faults.get(0).atMs();
            long from = Math.max(0, first - (long) (settings.settleSeconds() * 1000));
            rows.add(new FaultReport.Row(new FaultAudit.Fault(FaultAudit.NO_FAULT, String.format(Locale.ROOT,
                    "no fault (the %.0f s before the first)", (first - from) / 1000.0), from, from, 0),
                    FaultAudit.impact(perBucket, AuditClients.BUCKET_MS, from, first),
                    FaultAudit.userWaits(deliveries, from, first), FaultAudit.eventDelays(deliveries, from, first)));
        }
        rows.addAll(faultRows(faults, perBucket, deliveries, finishingAt));
        return FaultReport.of(settings, seconds, checks, rows);
    }

    /**
     * A row per fault, over its window: from the fault until the next, which waits until deliveries flow again, or
     * until the finishing phase ({@code finishingAt}), never into it (runs end there, and users wait for nothing).
     * A fault of several steps has a row per step after its own, each until the next step (the last until the
     * window's end), to tell which step made users wait.
     */
    static List<FaultReport.Row> faultRows(List<FaultAudit.Fault> faults, long[] perBucket,
                                           List<List<FaultAudit.Delivery>> deliveries, long finishingAt) {
        List<FaultReport.Row> rows = new ArrayList<>();
        for (int i = 0; i < faults.size(); i++) {
            FaultAudit.Fault fault = faults.get(i);
            long windowEnd = i + 1 < faults.size() ? faults.get(i + 1).atMs() : finishingAt;
            rows.add(row(fault, perBucket, deliveries, windowEnd));
            List<FaultAudit.Step> steps = fault.steps();
            for (int s = 0; s < steps.size(); s++) {
                FaultAudit.Step step = steps.get(s);
                long stepEnd = s + 1 < steps.size() ? steps.get(s + 1).atMs() : windowEnd;
                rows.add(row(new FaultAudit.Fault(FaultAudit.STEP, "… " + step.what(), step.atMs(), step.atMs(),
                        fault.routersBehindMs()), perBucket, deliveries, stepEnd));
            }
        }
        return rows;
    }

    /** What {@code fault} cost, from its start to {@code windowEnd}. */
    private static FaultReport.Row row(FaultAudit.Fault fault, long[] perBucket,
                                       List<List<FaultAudit.Delivery>> deliveries, long windowEnd) {
        return new FaultReport.Row(fault, FaultAudit.impact(perBucket, AuditClients.BUCKET_MS, fault.atMs(),
                windowEnd), FaultAudit.userWaits(deliveries, fault.atMs(), windowEnd),
                FaultAudit.eventDelays(deliveries, fault.atMs(), windowEnd));
    }

    private static void sleep(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }
}
