package dev.agentevents.bench.faults;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.agentevents.devstack.LocalCluster;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Brings one fault to the local cluster and undoes it: {@code kill -9} of a broker (the active controller first),
 * a router or a fanout node, each restarted after {@code downSeconds}; a rolling restart (every router, then every
 * fanout node, stopped gracefully and restarted one after the other, as a deploy does); the registry down, or all
 * brokers killed, for {@code outageSeconds}.
 */
final class FaultInjector {

    /** The faults, in turn. */
    static final List<String> CYCLE = List.of("broker", "router", "fanout", "rolling", "registry", "all-brokers");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LocalCluster cluster;
    private final FaultRun.Settings settings;
    private final PrintStream progress;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    FaultInjector(LocalCluster cluster, FaultRun.Settings settings, PrintStream progress) {
        this.cluster = cluster;
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Injects fault {@code kind} (the {@code round}-th of its kind) and undoes it; times are in ms since
     * {@code startedAtMs}.
     */
    FaultAudit.Fault inject(String kind, int round, long startedAtMs) throws Exception {
        long behind = routersBehindMs();
        long at = System.currentTimeMillis() - startedAtMs;
        String what;
        List<FaultAudit.Step> steps = new java.util.ArrayList<>();
        switch (kind) {
            case "broker" -> {
                int victim = round == 0 ? cluster.kafka().activeControllerId()
                        : cluster.kafka().nodeIds().get(round % cluster.kafka().nodeCount());
                boolean controller = victim == cluster.kafka().activeControllerId();
                what = "kill -9 broker " + victim + (controller ? " (active controller)" : "");
                say(what);
                cluster.kafka().kill(victim);
                sleep(settings.downSeconds());
                cluster.kafka().start(victim);
            }
            case "router", "fanout" -> {
                LocalCluster.Service service = cluster.service(kind + "-" + (1 + round % 2));
                what = "kill -9 " + service.name();
                say(what);
                killAndRestart(service, settings.downSeconds());
            }
            case "rolling" -> {
                List<LocalCluster.Service> services = cluster.services().stream()
                        .filter(s -> s.name().startsWith("router-")).toList();
                List<LocalCluster.Service> nodes = cluster.services().stream()
                        .filter(s -> s.name().startsWith("fanout-")).toList();
                what = "rolling restart of " + services.size() + " routers and " + nodes.size() + " fanout nodes";
                say(what);
                for (LocalCluster.Service service : java.util.stream.Stream.concat(services.stream(), nodes.stream())
                        .toList()) {
                    say("  restarting " + service.name());
                    steps.add(new FaultAudit.Step("restarting " + service.name(),
                            System.currentTimeMillis() - startedAtMs));
                    service.process().stop(30);
                    service.process().start();
                    LocalCluster.awaitHealthy(service);
                    if (service.name().startsWith("router-")) {
                        awaitRoutersSettled(services);
                        awaitRoutersCaughtUp();
                    } else {
                        awaitServing(service);
                    }
                    say("  " + service.name() + " ready");
                }
            }
            case "registry" -> {
                what = "registry down " + Math.round(settings.outageSeconds()) + " s";
                say(what);
                killAndRestart(cluster.service("registry"), settings.outageSeconds());
            }
            case "all-brokers" -> {
                what = "all " + cluster.kafka().nodeCount() + " brokers down " + Math.round(settings.outageSeconds())
                        + " s";
                say(what);
                cluster.kafka().killAll();
                sleep(settings.outageSeconds());
                cluster.kafka().startAll();
            }
            default -> throw new IllegalArgumentException("unknown fault '" + kind + "': use one of " + CYCLE);
        }
        return new FaultAudit.Fault(kind, what, at, System.currentTimeMillis() - startedAtMs, behind, steps);
    }

    /** A progress line stamped with the wall clock, so the processes' logs can be lined up with the faults. */
    private void say(String line) {
        progress.println(java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS) + " " + line);
    }

    /** {@code kill -9} of {@code service}, down for {@code seconds}, then started again and awaited healthy. */
    private static void killAndRestart(LocalCluster.Service service, double seconds) throws InterruptedException {
        service.process().kill();
        sleep(seconds);
        service.process().start();
        LocalCluster.awaitHealthy(service);
    }

    /**
     * A deploy moves on only once the restarted router took its share: waits (up to a minute) until the routers
     * have read their input up to the last three seconds (the progress is looked at every second).
     */
    private void awaitRoutersCaughtUp() throws InterruptedException {
        if (!awaitHeld(Duration.ofMinutes(1), Duration.ZERO, 200, () -> {
            long behind = routersBehindMs();
            return behind >= 0 && behind < 3_000;
        })) {
            progress.println("  the routers did not catch up within a minute; going on");
        }
    }

    /**
     * A deploy moves on only once the restarted router has its share: waits (up to a minute) until every router is
     * running with active tasks, and stays so for a second. Running alone is not enough: Kafka Streams gives a
     * joining instance its tasks in a second rebalance right after the first, and stopping the next router in
     * between leaves its tasks to be restored from the changelog by an instance that was still taking over.
     */
    private void awaitRoutersSettled(List<LocalCluster.Service> routers) throws InterruptedException {
        if (!awaitHeld(Duration.ofMinutes(1), Duration.ofSeconds(1), 100, () -> routers.stream().map(this::health)
                .allMatch(health -> "RUNNING".equals(health.path("streams").asText())
                        && health.path("activeTasks").asInt(0) > 0))) {
            progress.println("  the routers did not settle within a minute; going on");
        }
    }

    /**
     * A deploy moves on to the next fanout node only once the restarted one serves its share: waits (up to 30 s)
     * until it owns a partition, so stopping the next does not leave a partition without an owner.
     */
    private void awaitServing(LocalCluster.Service node) throws InterruptedException {
        if (!awaitHeld(Duration.ofSeconds(30), Duration.ZERO, 100,
                () -> health(node).path("partitions").asInt(0) > 0)) {
            progress.println("  " + node.name() + " owned no partition within 30 s; going on");
        }
    }

    /**
     * Asks {@code condition} every {@code everyMs} until it has held for {@code holdFor} (at once for zero); false if
     * it did not within {@code limit}.
     */
    private static boolean awaitHeld(Duration limit, Duration holdFor, long everyMs, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        long heldSince = -1;
        while (System.nanoTime() < deadline) {
            if (!condition.getAsBoolean()) {
                heldSince = -1;
            } else {
                long now = System.nanoTime();
                heldSince = heldSince < 0 ? now : heldSince;
                if (now - heldSince >= holdFor.toNanos()) {
                    return true;
                }
            }
            Thread.sleep(everyMs);
        }
        return false;
    }

    /**
     * The largest {@code inputBehindSeconds} (in ms) the routers answer on {@code /health} (-1 if none does):
     * whether the routers have read their input up to the present, or are still recovering from an earlier fault.
     * Asked several times a second, so not of {@code /metrics}: formatting every Kafka Streams metric (about 500 KB)
     * twice a second took half of an idle router's CPU.
     */
    long routersBehindMs() {
        long worst = -1;
        for (LocalCluster.Service service : cluster.services()) {
            if (service.name().startsWith("router-")) {
                // a router that does not answer, or has not looked yet, tells nothing
                JsonNode behind = health(service).path("inputBehindSeconds");
                if (behind.isNumber()) {
                    worst = Math.max(worst, (long) (behind.asDouble() * 1000));
                }
            }
        }
        return worst;
    }

    /** What {@code service} answers on {@code /health}, or a missing node if it does not answer JSON. */
    private JsonNode health(LocalCluster.Service service) {
        try {
            return JSON.readTree(service.health(http).orElse(""));
        } catch (JsonProcessingException e) {
            return MissingNode.getInstance();
        }
    }

    private static void sleep(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }
}
