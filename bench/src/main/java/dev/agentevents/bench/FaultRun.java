package dev.agentevents.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.devstack.LocalCluster;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.fanout.Hs256Tokens;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.Published;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.schemas.EventJson;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fault-injection run: the multi-process local cluster (3 brokers, RF 3, min.insync.replicas 2, the registry,
 * 2 routers, 2 fanout nodes), simulated agents for many users publishing steadily, and a resuming WebSocket client
 * per user. While it runs, in turn: {@code kill -9} a broker (the active controller first), a router and a fanout
 * node, restarting each; the schema registry down for 30 s; all brokers killed and down for 30 s. Then every run is
 * played to its end and what was acknowledged is compared with what every client saw: lost, repeated, out of order,
 * shown to the wrong user, runs without an end, deliveries stopped by a registry outage; plus, per fault, the
 * longest stall of deliveries and the time until the delivery rate recovered.
 */
final class FaultRun {

    /**
     * @param downSeconds how long a killed process stays down
     * @param outageSeconds how long the registry, or all brokers, stay down
     * @param settleSeconds steady load before the first fault and between faults (short mode)
     */
    record Settings(int users, double rate, boolean longMode, int minutes, double downSeconds, double outageSeconds,
                    double settleSeconds) {
    }

    /** The faults, in turn: one process killed and restarted, then the two outages. */
    static final List<String> CYCLE = List.of("broker", "router", "fanout", "registry", "all-brokers");
    /** Routers this close to the present in reading their input have recovered from whatever came before. */
    static final long ROUTERS_CAUGHT_UP_MS = 10_000;

    /** {@code routersBehindMs}: how far behind the routers were in reading their input when it came (-1: unknown). */
    record Fault(String kind, String what, long atMs, long restartedAtMs, long routersBehindMs) {
        /** Whether the routers had read their input up to the present when the fault came (or nobody knew). */
        boolean routersCaughtUp() {
            return routersBehindMs < ROUTERS_CAUGHT_UP_MS;
        }
    }

    private final Settings settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final PrintStream progress;

    FaultRun(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** Runs it; returns the Markdown table (also written with the JSON into {@code out}); true counts in the JSON. */
    Result run(Path out) throws Exception {
        long t0 = System.nanoTime();
        Path dir = Files.createTempDirectory("agent-events-faults");
        LocalCluster cluster = LocalCluster.start(LocalCluster.Options.defaults(dir),
                step -> progress.printf("[%5.1fs] %s ...%n", (System.nanoTime() - t0) / 1e9, step));
        Vertx vertx = Vertx.vertx();
        boolean passed = false;
        try {
            List<String> users = AgentSimulator.Settings.users("fault-user-", settings.users());
            List<String> nodes = cluster.services().stream().filter(s -> s.name().startsWith("fanout"))
                    .map(LocalCluster.Service::address).toList();
            int maxSeconds = settings.longMode() ? settings.minutes() * 60 + 600 : 900;
            Map<String, Published> acknowledged = new ConcurrentHashMap<>();
            AtomicLong failedSends = new AtomicLong();
            List<Fault> faults = new ArrayList<>();
            try (AuditClients clients = new AuditClients(users, nodes, user -> Hs256Tokens.issue(
                    cluster.demoSecret(), user, Duration.ofHours(24)), maxSeconds);
                 EventPublisher publisher = EventPublisher.create(new PublisherConfig(
                         PublisherConfig.of(cluster.bootstrapServers(), cluster.registryUrl()).kafka(),
                         cluster.registryUrl(), dev.agentevents.schemas.Topics.defaults(),
                         PublisherConfig.DEFAULT_MAX_PAYLOAD_BYTES, 32L * 1024 * 1024, 60_000, 300_000, 5, "lz4"))) {
                progress.printf("%d clients connecting, agents publishing %.0f events/s ...%n", users.size(),
                        settings.rate());
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
                sleep(settings.settleSeconds());
                // short: each fault once; long: one fault a minute, in turn
                int count = settings.longMode() ? settings.minutes() : CYCLE.size();
                for (int i = 0; i < count; i++) {
                    long minuteStart = System.nanoTime();
                    progress.printf("[%6.1fs] fault %d/%d · %,d events acknowledged · %,d shown to clients%n",
                            (minuteStart - t0) / 1e9, i + 1, count, acknowledged.size(), clients.delivered());
                    faults.add(inject(cluster, CYCLE.get(i % CYCLE.size()), i / CYCLE.size(), clients));
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
                Result result = audit(acknowledged, failedSends.get(), clients, faults, finishingAt,
                        (System.nanoTime() - t0) / 1e9);
                result.write(out, settings.longMode() ? "faults-long" : "faults");
                writeLost(out, acknowledged, clients);
                passed = result.passed();
                return result;
            }
        } finally {
            vertx.close();
            progress.println("stopping the local cluster ...");
            cluster.close();
            if (passed) {
                EmbeddedKafka.deleteRecursively(dir);
            } else {
                progress.println("the processes' logs are kept under " + dir.resolve("logs"));
            }
        }
    }

    private Fault inject(LocalCluster cluster, String kind, int round, AuditClients clients) throws Exception {
        long behind = routersBehindMs(cluster);
        long at = System.currentTimeMillis() - clients.startedAtMs;
        String what;
        switch (kind) {
            case "broker" -> {
                int victim = round == 0 ? cluster.kafka().activeControllerId()
                        : cluster.kafka().nodeIds().get(round % cluster.kafka().nodeCount());
                boolean controller = victim == cluster.kafka().activeControllerId();
                what = "kill -9 broker " + victim + (controller ? " (active controller)" : "");
                progress.println(what);
                cluster.kafka().kill(victim);
                sleep(settings.downSeconds());
                cluster.kafka().start(victim);
            }
            case "router" -> {
                LocalCluster.Service router = cluster.service("router-" + (1 + round % 2));
                what = "kill -9 " + router.name();
                progress.println(what);
                router.process().kill();
                sleep(settings.downSeconds());
                router.process().start();
                LocalCluster.awaitHealthy(router);
            }
            case "registry" -> {
                LocalCluster.Service registry = cluster.service("registry");
                what = "registry down " + Math.round(settings.outageSeconds()) + " s";
                progress.println(what);
                registry.process().kill();
                sleep(settings.outageSeconds());
                registry.process().start();
                LocalCluster.awaitHealthy(registry);
            }
            case "all-brokers" -> {
                what = "all " + cluster.kafka().nodeCount() + " brokers down " + Math.round(settings.outageSeconds())
                        + " s";
                progress.println(what);
                cluster.kafka().killAll();
                sleep(settings.outageSeconds());
                cluster.kafka().startAll();
            }
            default -> {
                LocalCluster.Service node = cluster.service("fanout-" + (1 + round % 2));
                what = "kill -9 " + node.name();
                progress.println(what);
                node.process().kill();
                sleep(settings.downSeconds());
                node.process().start();
                LocalCluster.awaitHealthy(node);
            }
        }
        return new Fault(kind, what, at, System.currentTimeMillis() - clients.startedAtMs, behind);
    }

    /**
     * Whether {@code fault} is a registry outage that stopped deliveries: with cached schemas it must not, and a
     * global stall of half the outage would show that it did. A stall already under way when the outage began is an
     * earlier fault's: nothing was delivered in the 10 s before, or the routers had not yet read their input up to
     * the present (the fifth long run blamed the registry for a stall of the routers' consumer group that began
     * two faults earlier).
     */
    static boolean registryStoppedDeliveries(Fault fault, double longestGlobalStallSeconds, boolean flowingBefore,
                                             double outageSeconds) {
        return fault.kind().equals("registry") && longestGlobalStallSeconds >= outageSeconds / 2 && flowingBefore
                && fault.routersCaughtUp();
    }

    /**
     * The largest {@code router_input_behind_seconds} (in ms) of the routers that answer (-1 if none does): whether the routers
     * have read their input up to the present, or are still recovering from an earlier fault.
     */
    private long routersBehindMs(LocalCluster cluster) {
        long worst = -1;
        for (LocalCluster.Service service : cluster.services()) {
            if (service.name().startsWith("router-")) {
                // a router that does not answer tells nothing
                OptionalDouble behind = service.metric(http, "router_input_behind_seconds");
                if (behind.isPresent()) {
                    worst = Math.max(worst, (long) (behind.getAsDouble() * 1000));
                }
            }
        }
        return worst;
    }

    /**
     * For a failed audit, one line per lost event (what was acknowledged, where it was written, what its user's
     * client last saw of the run and how often it connected): the starting point of the investigation.
     */
    private void writeLost(Path out, Map<String, Published> acknowledged, AuditClients clients) throws Exception {
        List<String> lines = new ArrayList<>();
        for (Published event : acknowledged.values()) {
            AuditClients.Client client = clients.clients.get(event.userId());
            if (client != null && client.received.containsKey(event.eventId())) {
                continue;
            }
            ObjectNode line = EventJson.MAPPER.createObjectNode().put("eventId", event.eventId())
                    .put("userId", event.userId()).put("runId", event.runId()).put("seq", event.seq())
                    .put("type", event.type()).put("input", event.partition() + ":" + event.offset());
            if (client != null) {
                line.put("clientConnections", client.connections.get()).put("clientSawEnd",
                        client.sawEnd(event.runId()));
            }
            lines.add(EventJson.MAPPER.writeValueAsString(line));
        }
        if (!lines.isEmpty()) {
            Path file = out.resolve((settings.longMode() ? "faults-long" : "faults") + "-lost-"
                    + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                    + ".jsonl");
            Files.write(file, lines);
            progress.println(lines.size() + " lost events listed in " + file);
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

    /** The audit's numbers, and the table. */
    record Result(ObjectNode json, String markdown, boolean passed) {
        void write(Path dir, String name) throws Exception {
            Files.createDirectories(dir);
            String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
            Files.writeString(dir.resolve(name + "-" + stamp + ".json"),
                    EventJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));
            Files.writeString(dir.resolve(name + "-" + stamp + ".md"), markdown);
        }
    }

    private Result audit(Map<String, Published> acknowledged, long failedSends, AuditClients clients,
                         List<Fault> faults, long finishingAt, double seconds) {
        long lost = missing(acknowledged, clients);
        long duplicates = 0;
        long order = 0;
        long otherUsers = 0;
        long gaps = 0;
        long reconnects = 0;
        long repeats = 0;
        for (AuditClients.Client client : clients.clients.values()) {
            duplicates += client.duplicates.get();
            repeats += client.repeatsDropped.get();
            order += client.orderViolations.get();
            otherUsers += client.otherUsers.get();
            gaps += client.gaps.get();
            reconnects += Math.max(0, client.connections.get() - 1);
        }
        Map<String, String> userOfRun = new ConcurrentHashMap<>();
        acknowledged.values().forEach(e -> userOfRun.put(e.runId(), e.userId()));
        long unfinished = userOfRun.entrySet().stream()
                .filter(run -> !clients.clients.get(run.getValue()).sawEnd(run.getKey())).count();
        ObjectNode json = EventJson.MAPPER.createObjectNode();
        json.put("users", settings.users()).put("rateEventsPerSecond", settings.rate()).put("seconds", seconds)
                .put("acknowledged", acknowledged.size()).put("notAcknowledged", failedSends)
                .put("runs", userOfRun.size()).put("lost", lost).put("duplicatesAfterDedupe", duplicates)
                .put("orderViolations", order).put("shownToOtherUsers", otherUsers)
                .put("runsWithoutTerminalEvent", unfinished).put("gapMarkers", gaps).put("reconnects", reconnects)
                .put("repeatsDroppedByClients", repeats);
        ArrayNode faultList = json.putArray("faults");
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "%d users, %.0f events/s, %.0f s, %,d events acknowledged in %,d runs "
                + "(%,d sends not acknowledged)%n%n", settings.users(), settings.rate(), seconds, acknowledged.size(),
                userOfRun.size(), failedSends));
        md.append("| check | result |\n|---|---|\n");
        md.append("| lost events (acknowledged, never shown) | ").append(lost).append(" |\n");
        md.append("| events shown twice after the client's dedupe | ").append(duplicates).append(" |\n");
        md.append("| per-run order violations (event after a later one of its run, or after its end) | ").append(order).append(" |\n");
        md.append("| events shown to a user they do not belong to | ").append(otherUsers).append(" |\n");
        md.append("| runs left without a terminal event | ").append(unfinished).append(" |\n");
        md.append("| gap markers seen | ").append(gaps).append(" |\n");
        md.append("| events the servers sent again, dropped by the clients' seq check | ").append(repeats).append(" |\n");
        md.append("| client reconnects | ").append(reconnects).append(" |\n");
        StringBuilder rows = new StringBuilder("| fault | at | down for | no delivery to anyone for | "
                + "longest wait of one user | delivery rate back to ≥ ½ after |\n|---|---|---|---|---|---|\n");
        // with cached schemas, a registry outage must not stop deliveries (a stall of half the outage would)
        int registryStalls = 0;
        for (int i = 0; i < faults.size(); i++) {
            Fault fault = faults.get(i);
            long windowEnd = Math.min(finishingAt, i + 1 < faults.size() ? faults.get(i + 1).atMs()
                    : fault.atMs() + 60_000);
            double[] impact = impact(clients, fault, windowEnd);
            double worstUser = worstUserWait(clients, fault.atMs(), windowEnd);
            double down = (fault.restartedAtMs() - fault.atMs()) / 1000.0;
            faultList.addObject().put("what", fault.what()).put("atSeconds", fault.atMs() / 1000.0)
                    .put("downSeconds", down).put("longestGlobalStallSeconds", impact[0])
                    .put("longestUserWaitSeconds", worstUser).put("recoverySeconds", impact[1]);
            boolean flowingBefore = impact[2] > 0;
            ((ObjectNode) faultList.get(faultList.size() - 1)).put("deliveriesFlowingBefore", flowingBefore)
                    .put("routersBehindMsBefore", fault.routersBehindMs());
            if (registryStoppedDeliveries(fault, impact[0], flowingBefore, settings.outageSeconds())) {
                registryStalls++;
            }
            rows.append(String.format(Locale.ROOT, "| %s%s | %.0f s | %.1f s | %.1f s | %.1f s | %s |%n", fault.what(),
                    !flowingBefore ? " (deliveries already stopped)" : !fault.routersCaughtUp() ? String.format(Locale.ROOT,
                            " (routers still %.0f s behind)", fault.routersBehindMs() / 1000.0) : "",
                    fault.atMs() / 1000.0, down, impact[0], worstUser, impact[1] < 0 ? "not within the window"
                            : impact[1] == 0 ? "never fell below" : String.format(Locale.ROOT, "%.1f s", impact[1])));
        }
        md.append("| registry outages that stopped deliveries | ").append(registryStalls).append(" |\n\n");
        md.append(rows);
        json.put("registryOutagesThatStoppedDeliveries", registryStalls);
        boolean passed = lost == 0 && duplicates == 0 && order == 0 && otherUsers == 0 && unfinished == 0
                && registryStalls == 0;
        json.put("passed", passed);
        return new Result(json, md.toString(), passed);
    }

    private static long deliveredBetween(AuditClients clients, long fromMs, long toMs) {
        long total = 0;
        for (int b = (int) Math.max(0, fromMs / AuditClients.BUCKET_MS);
             b < Math.min(clients.deliveriesPer100Ms.length(), toMs / AuditClients.BUCKET_MS); b++) {
            total += clients.deliveriesPer100Ms.get(b);
        }
        return total;
    }

    /**
     * The longest stretch without any delivery to anyone between the fault and the next one; and the recovery: how
     * long after the fault the delivery rate (over a sliding second) was back to at least half its rate in the 10 s
     * before the fault, after first falling below that (0: it never fell below; -1: not back within the window);
     * and the deliveries in those 10 s before the fault.
     */
    private static double[] impact(AuditClients clients, Fault fault, long windowEndMs) {
        int per = AuditClients.BUCKET_MS;
        int start = (int) (fault.atMs() / per);
        int end = (int) Math.min(clients.deliveriesPer100Ms.length(), windowEndMs / per);
        double before = deliveredBetween(clients, fault.atMs() - 10_000, fault.atMs());
        double half = before / 10.0 / 2;
        int longest = 0;
        int current = 0;
        for (int b = start; b < end; b++) {
            current = clients.deliveriesPer100Ms.get(b) == 0 ? current + 1 : 0;
            longest = Math.max(longest, current);
        }
        boolean fell = false;
        double recovered = -1;
        for (int b = start + 9; b < end && recovered < 0; b++) {
            long lastSecond = deliveredBetween(clients, (b - 9L) * per, (b + 1L) * per);
            if (lastSecond < half) {
                fell = true;
            } else if (fell) {
                recovered = ((b + 1) * (double) per - fault.atMs()) / 1000.0;
            }
        }
        return new double[] {longest * per / 1000.0, fell ? recovered : 0, before};
    }

    /** The longest time any one user waited between two deliveries, for waits that overlap [from, to). */
    private static double worstUserWait(AuditClients clients, long fromMs, long toMs) {
        long worst = 0;
        for (AuditClients.Client client : clients.clients.values()) {
            List<Long> times;
            synchronized (client.deliveredAt) {
                times = new ArrayList<>(client.deliveredAt);
            }
            for (int i = 1; i < times.size(); i++) {
                long a = times.get(i - 1);
                long b = times.get(i);
                if (b > fromMs && a < toMs && b <= toMs) {
                    worst = Math.max(worst, b - a);
                }
            }
        }
        return worst / 1000.0;
    }

    private static void sleep(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }
}
