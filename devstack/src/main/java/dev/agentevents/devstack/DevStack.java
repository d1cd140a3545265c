package dev.agentevents.devstack;

import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.fanout.FanoutNode;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.router.RouterApp;
import dev.agentevents.router.RouterConfig;
import dev.agentevents.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The whole pipeline in one JVM: the embedded broker and registry, the topics, one router, fanout nodes (demo page
 * and {@code /dev/token} on), a {@link WarmUp} before it counts as started, and, unless switched off, the agent
 * simulator playing runs for the demo users.
 * Stops in reverse order.
 */
public final class DevStack implements AutoCloseable {

    /** How to shape the stack; ports 0 mean free ones. */
    public record Options(Path dataDir, int kafkaPort, int registryPort, List<Integer> fanoutPorts, int routerPort,
                          boolean warmUp, boolean simulator, List<String> users, double rate) {
    }

    private final EmbeddedStack stack;
    private final RouterApp router;
    private final List<FanoutNode> nodes;
    private final EventPublisher publisher;
    private final AgentSimulator simulator;
    private final Path temporaryDir;

    private DevStack(EmbeddedStack stack, RouterApp router, List<FanoutNode> nodes, EventPublisher publisher,
                     AgentSimulator simulator, Path temporaryDir) {
        this.temporaryDir = temporaryDir;
        this.stack = stack;
        this.router = router;
        this.nodes = nodes;
        this.publisher = publisher;
        this.simulator = simulator;
    }

    /** Starts everything, telling {@code progress} about each step. */
    public static DevStack start(Options options, Consumer<String> progress) throws Exception {
        Path dataDir = options.dataDir() != null ? Files.createDirectories(options.dataDir())
                : Files.createTempDirectory("agent-events-devstack-");
        List<AutoCloseable> started = new ArrayList<>();
        try {
            progress.accept("starting Kafka (KRaft) and the schema registry");
            EmbeddedStack stack = EmbeddedStack.start(EmbeddedStack.Options.defaults()
                    .withPorts(options.kafkaPort(), options.registryPort()).withDataDir(dataDir.resolve("kafka")));
            started.add(stack);
            Map<String, String> shared = new HashMap<>();
            shared.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
            shared.put("SCHEMA_REGISTRY_URL", stack.registryUrl());

            progress.accept("starting the router");
            Map<String, String> routerEnv = new HashMap<>(shared);
            routerEnv.put("ROUTER_STATE_DIR", dataDir.resolve("router").toString());
            routerEnv.put("ROUTER_HTTP_PORT", Integer.toString(options.routerPort()));
            RouterApp router = RouterApp.start(RouterConfig.fromEnv(routerEnv));
            started.add(router);

            String secret = demoSecret(dataDir);
            List<FanoutNode> nodes = new ArrayList<>();
            for (int i = 0; i < options.fanoutPorts().size(); i++) {
                progress.accept("starting fanout node " + (i + 1) + " of " + options.fanoutPorts().size());
                Map<String, String> env = new HashMap<>(shared);
                env.put("FANOUT_HOST", "127.0.0.1");
                env.put("FANOUT_PORT", Integer.toString(options.fanoutPorts().get(i)));
                env.put("FANOUT_NODE_ID", "node-" + (i + 1));
                env.put("FANOUT_JWT_HS256_SECRET", secret);
                env.put("FANOUT_DEMO", "true");
                FanoutNode node = FanoutNode.start(FanoutConfig.fromEnv(env));
                started.add(node);
                nodes.add(node);
            }
            progress.accept("waiting for the router and the fanout nodes to share out the partitions");
            if (!router.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException("the router did not reach RUNNING within 60 s");
            }
            awaitPartitionsCovered(nodes);

            EventPublisher publisher = EventPublisher.create(PublisherConfig.fromEnv(shared));
            started.add(publisher);
            if (options.warmUp()) {
                progress.accept("warming up: " + WarmUp.DURATION.toSeconds() + " s of simulated runs through the "
                        + "pipeline");
                WarmUp.run(publisher, nodes);
            }
            AgentSimulator simulator = null;
            if (options.simulator()) {
                progress.accept("starting the agent simulator for " + options.users());
                simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(options.users(), options.rate(),
                        0.1, 1, 0, System.nanoTime()), new AgentSimulator.Listener() { }).start();
            }
            return new DevStack(stack, router, nodes, publisher, simulator,
                    options.dataDir() == null ? dataDir : null);
        } catch (Exception | Error e) {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (options.dataDir() == null) {
                EmbeddedKafka.deleteRecursively(dataDir);
            }
            throw e;
        }
    }

    /** The demo token secret, kept in the data directory so tokens survive a restart on the same directory. */
    private static String demoSecret(Path dataDir) throws java.io.IOException {
        Path file = dataDir.resolve("demo-token-secret");
        if (Files.exists(file)) {
            return Files.readString(file).trim();
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String secret = HexFormat.of().formatHex(random);
        Files.writeString(file, secret);
        return secret;
    }

    /**
     * Waits until the group's assignment has settled: every partition owned by exactly one node and every node
     * owning some (the cooperative assignor first gives everything to the first node, then moves half over).
     */
    private static void awaitPartitionsCovered(List<FanoutNode> nodes) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int partitions = Topics.DEFAULT_PARTITIONS;
        while (System.nanoTime() < deadline) {
            Set<Integer> owned = new HashSet<>();
            int total = 0;
            boolean everyNodeOwns = true;
            for (FanoutNode node : nodes) {
                Set<Integer> mine = node.ownedPartitions();
                owned.addAll(mine);
                total += mine.size();
                everyNodeOwns &= !mine.isEmpty() || nodes.size() > partitions;
            }
            if (owned.size() == partitions && total == partitions && everyNodeOwns) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the fanout nodes did not settle on an assignment of the partitions in 60 s");
    }

    public EmbeddedStack infrastructure() {
        return stack;
    }

    public RouterApp router() {
        return router;
    }

    public List<FanoutNode> fanoutNodes() {
        return nodes;
    }

    public AgentSimulator simulator() {
        return simulator;
    }

    @Override
    public void close() {
        if (simulator != null) {
            simulator.stop();
        }
        if (publisher != null) {
            publisher.close();
        }
        nodes.forEach(FanoutNode::close);
        router.close(Duration.ofSeconds(20));
        stack.close();
        if (temporaryDir != null) {
            EmbeddedKafka.deleteRecursively(temporaryDir);
        }
    }
}
