package dev.agentevents.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster in KRaft mode from Apache Kafka's own jars: one or more nodes, each both broker and
 * controller, on loopback, with storage formatted by code.
 *
 * <p>Nodes run {@link Mode#IN_PROCESS} (fast; for tests and the one-command default) or
 * {@link Mode#CHILD_PROCESS} (each its own JVM running {@code kafka.Kafka}, so fault tests can
 * {@link #kill(int) kill -9} one and {@link #start(int) restart} it on the same data and ports). Everything lives
 * under one data directory; a cluster started again on the same directory keeps its cluster id and data.
 * Close stops every node; child JVMs are also killed if this JVM exits without closing.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    public enum Mode { IN_PROCESS, CHILD_PROCESS }

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final Mode mode;
    private final List<KafkaNode> nodes;
    private final Duration startTimeout;

    private EmbeddedKafka(Builder builder, Path dataDir, List<KafkaNode> nodes) {
        this.dataDir = dataDir;
        this.deleteOnClose = builder.dataDir == null;
        this.mode = builder.mode;
        this.nodes = nodes;
        this.startTimeout = builder.startTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a cluster; {@link #start()} formats storage (first time only) and waits until all brokers serve. */
    public static final class Builder {
        private int nodeCount = 1;
        private Mode mode = Mode.IN_PROCESS;
        private Path dataDir;
        private int firstBrokerPort;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(60);
        private int childHeapMb = 512;
        private List<String> childJvmOptions = JavaProcess.C1_ONLY;

        private Builder() {
        }

        /** Number of nodes (each broker and controller); 1 or 3 are the useful ones. */
        public Builder nodes(int count) {
            if (count < 1 || count > 9) {
                throw new IllegalArgumentException("node count " + count + " must be between 1 and 9");
            }
            this.nodeCount = count;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Where data lives; kept after close. Default: a fresh temporary directory, deleted on close. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Broker port of node 1 (node n gets port + n - 1); default 0: free ports chosen at first start. */
        public Builder brokerPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("broker port " + port + " is not a TCP port");
            }
            this.firstBrokerPort = port;
            return this;
        }

        /** Any broker setting, overriding this class's defaults. */
        public Builder brokerProperty(String name, String value) {
            overrides.put(name, value);
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Maximum heap of each child JVM. */
        public Builder childHeapMb(int megabytes) {
            this.childHeapMb = megabytes;
            return this;
        }

        /** More options of each child JVM; default {@link JavaProcess#C1_ONLY} (brokers that start fast). */
        public Builder childJvmOptions(List<String> options) {
            this.childJvmOptions = List.copyOf(options);
            return this;
        }

        public EmbeddedKafka start() {
            Path dir;
            try {
                dir = dataDir != null ? Files.createDirectories(dataDir) : Files.createTempDirectory("agent-events-kafka-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create data directory " + dataDir, e);
            }
            ClusterLayout layout = ClusterLayout.loadOrCreate(dir, nodeCount, firstBrokerPort);
            List<KafkaNode> nodes = new ArrayList<>();
            for (int id = 1; id <= nodeCount; id++) {
                Properties props = layout.brokerProperties(id, overrides);
                nodes.add(new KafkaNode(id, layout.brokerPort(id), dir.resolve("node-" + id), props, layout.clusterId(),
                        childHeapMb, childJvmOptions));
            }
            EmbeddedKafka kafka = new EmbeddedKafka(this, dir, nodes);
            try {
                kafka.startAll();
            } catch (RuntimeException e) {
                kafka.close();
                throw e;
            }
            return kafka;
        }
    }

    /**
     * Starts every node that is not running, all together (a lone node cannot form a controller quorum), and waits
     * until every node serves: the first start, and the restart after {@link #killAll()}.
     */
    public void startAll() {
        long t0 = System.nanoTime();
        for (KafkaNode node : nodes) {
            if (!node.isRunning()) {
                node.start(mode);
            }
        }
        awaitBrokers(nodes.size());
        LOG.info("Kafka cluster of {} node(s) ({}) serving at {} after {} ms", nodes.size(), mode, bootstrapServers(),
                (System.nanoTime() - t0) / 1_000_000);
    }

    /** {@code host:port,...} of every node. */
    public String bootstrapServers() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.brokerPort()).collect(Collectors.joining(","));
    }

    public Mode mode() {
        return mode;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int nodeCount() {
        return nodes.size();
    }

    /** Node ids, 1..n. */
    public List<Integer> nodeIds() {
        return nodes.stream().map(KafkaNode::id).toList();
    }

    /** Process id of a child-process node, or empty when it runs in-process or is down. */
    public java.util.OptionalLong pid(int nodeId) {
        return node(nodeId).pid();
    }

    public boolean isRunning(int nodeId) {
        return node(nodeId).isRunning();
    }

    /** An admin client for this cluster; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    /** The id of the node that is the active KRaft controller now. */
    public int activeControllerId() {
        try (Admin admin = admin()) {
            return admin.describeMetadataQuorum().quorumInfo().get(20, TimeUnit.SECONDS).leaderId();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking for the active controller", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot find the active controller: " + e, e);
        }
    }

    /** Kills node {@code nodeId} with SIGKILL (child-process mode only): no shutdown, no flush. */
    public void kill(int nodeId) {
        if (mode != Mode.CHILD_PROCESS) {
            throw new UnsupportedOperationException("kill -9 needs Mode.CHILD_PROCESS; this cluster runs " + mode);
        }
        node(nodeId).kill();
    }

    /** Stops node {@code nodeId} gracefully. */
    public void stop(int nodeId) {
        node(nodeId).stop();
    }

    /** Starts a stopped or killed node again on its data and ports, and waits until it serves. */
    public void start(int nodeId) {
        KafkaNode node = node(nodeId);
        if (node.isRunning()) {
            throw new IllegalStateException("node " + nodeId + " is already running");
        }
        node.start(mode);
        awaitBrokers((int) nodes.stream().filter(KafkaNode::isRunning).count());
    }

    /** Kills every node with SIGKILL at once (child-process mode only): the whole cluster is gone. */
    public void killAll() {
        nodeIds().forEach(this::kill);
    }

    private KafkaNode node(int nodeId) {
        return nodes.stream().filter(n -> n.id() == nodeId).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + nodeId + " in a cluster of nodes "
                        + nodeIds()));
    }

    private void awaitBrokers(int expected) {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        Exception last = null;
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                for (KafkaNode node : nodes) {
                    node.checkAlive();
                }
                try {
                    Collection<?> live = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                    if (live.size() >= expected) {
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    last = e;
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for brokers", e);
        }
        throw new IllegalStateException("Kafka cluster at " + bootstrapServers() + " did not have " + expected
                + " live broker(s) within " + startTimeout.toSeconds() + " s"
                + (last == null ? "" : ": " + last) + "; node logs are under " + dataDir);
    }

    @Override
    public void close() {
        long t0 = System.nanoTime();
        // All at once: stopping nodes one by one loses the controller quorum half-way, and the last nodes then
        // wait for a controller that will not come back before they shut down.
        List<Thread> stopping = new ArrayList<>();
        for (KafkaNode node : nodes) {
            Thread thread = new Thread(() -> {
                try {
                    node.stop();
                } catch (RuntimeException e) {
                    LOG.warn("node {} did not stop cleanly: {}", node.id(), e.toString());
                }
            }, "stop-kafka-node-" + node.id());
            thread.start();
            stopping.add(thread);
        }
        for (Thread thread : stopping) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        LOG.info("Kafka cluster at {} stopped in {} ms", bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
        if (deleteOnClose) {
            deleteRecursively(dataDir);
        }
    }

    /** Deletes {@code dir} and everything under it, if it exists; logs what it could not delete. */
    public static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        }
    }

    /** A TCP port that is free on loopback now. */
    static int freePort() {
        return freePorts(1)[0];
    }

    /**
     * {@code count} different TCP ports free on loopback now: each is held open until all are found, since the
     * kernel may hand out a port just closed again (two listeners of one broker on the same port).
     */
    static int[] freePorts(int count) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find " + count + " free ports", e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException e) {
                    LOG.warn("cannot close port {}: {}", socket.getLocalPort(), e.toString());
                }
            }
        }
    }

    /** Cluster id and ports, fixed at first start and kept in {@code cluster.properties} for restarts. */
    record ClusterLayout(String clusterId, int[] brokerPorts, int[] controllerPorts) {

        static ClusterLayout loadOrCreate(Path dir, int nodeCount, int firstBrokerPort) {
            Path file = dir.resolve("cluster.properties");
            Properties props = new Properties();
            if (Files.exists(file)) {
                try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    props.load(in);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file, e);
                }
                int stored = Integer.parseInt(props.getProperty("nodes"));
                if (stored != nodeCount) {
                    throw new IllegalStateException("data directory " + dir + " holds a cluster of " + stored
                            + " node(s), not " + nodeCount + ": use another directory");
                }
            } else {
                props.setProperty("cluster.id", Uuid.randomUuid().toString());
                props.setProperty("nodes", Integer.toString(nodeCount));
                int[] ports = freePorts(2 * nodeCount);
                for (int id = 1; id <= nodeCount; id++) {
                    props.setProperty("node." + id + ".broker.port",
                            Integer.toString(firstBrokerPort > 0 ? firstBrokerPort + id - 1 : ports[2 * id - 2]));
                    props.setProperty("node." + id + ".controller.port", Integer.toString(ports[2 * id - 1]));
                }
                try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                    props.store(out, "agent-events embedded Kafka cluster");
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + file, e);
                }
            }
            int[] brokers = new int[nodeCount];
            int[] controllers = new int[nodeCount];
            for (int id = 1; id <= nodeCount; id++) {
                brokers[id - 1] = Integer.parseInt(props.getProperty("node." + id + ".broker.port"));
                controllers[id - 1] = Integer.parseInt(props.getProperty("node." + id + ".controller.port"));
            }
            return new ClusterLayout(props.getProperty("cluster.id"), brokers, controllers);
        }

        int brokerPort(int nodeId) {
            return brokerPorts[nodeId - 1];
        }

        Properties brokerProperties(int nodeId, Map<String, String> overrides) {
            int n = brokerPorts.length;
            String rf = Integer.toString(Math.min(3, n));
            String minIsr = Integer.toString(Math.min(2, n));
            String voters = java.util.stream.IntStream.rangeClosed(1, n)
                    .mapToObj(id -> id + "@127.0.0.1:" + controllerPorts[id - 1])
                    .collect(Collectors.joining(","));
            Properties p = new Properties();
            p.setProperty("process.roles", "broker,controller");
            p.setProperty("node.id", Integer.toString(nodeId));
            p.setProperty("controller.quorum.voters", voters);
            p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts[nodeId - 1]
                    + ",CONTROLLER://127.0.0.1:" + controllerPorts[nodeId - 1]);
            p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts[nodeId - 1]);
            p.setProperty("controller.listener.names", "CONTROLLER");
            p.setProperty("inter.broker.listener.name", "PLAINTEXT");
            p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.setProperty("num.partitions", "1");
            p.setProperty("default.replication.factor", rf);
            p.setProperty("min.insync.replicas", minIsr);
            p.setProperty("offsets.topic.replication.factor", rf);
            p.setProperty("offsets.topic.num.partitions", "12");
            p.setProperty("transaction.state.log.replication.factor", rf);
            p.setProperty("transaction.state.log.min.isr", minIsr);
            p.setProperty("transaction.state.log.num.partitions", "12");
            p.setProperty("share.coordinator.state.topic.replication.factor", rf);
            p.setProperty("share.coordinator.state.topic.min.isr", minIsr);
            p.setProperty("group.initial.rebalance.delay.ms", "0");
            // the local cluster's groups notice a crashed member in 3 s (a stock broker allows 6 s at least)
            p.setProperty("group.min.session.timeout.ms", "1000");
            p.setProperty("auto.create.topics.enable", "false");
            p.setProperty("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
            p.setProperty("log.segment.bytes", Integer.toString(64 * 1024 * 1024));
            if (n > 1) {
                // notice a killed broker in ~2 s instead of ~9 s (docs/operations.md)
                p.setProperty("broker.session.timeout.ms", "2000");
                p.setProperty("broker.heartbeat.interval.ms", "500");
                // the other controllers notice a killed active controller in 1 s, not 2, and elect within 0.5-1 s
                p.setProperty("controller.quorum.fetch.timeout.ms", "1000");
                p.setProperty("controller.quorum.election.timeout.ms", "500");
                // abort a killed router's open transaction within a second of its timeout, not up to 10 s later
                p.setProperty("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
            }
            p.putAll(overrides);
            return p;
        }
    }
}
