package dev.agentevents.devstack;

import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.embedded.JavaProcess;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.SchemaRegistryClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The pipeline as separate JVM processes on loopback, without Docker: Kafka brokers (KRaft, RF 3 and
 * {@code min.insync.replicas=2} with three), the schema registry, routers and fanout nodes. Every process can be
 * killed ({@code kill -9}) and started again by name, which is what fault and scale tests do.
 */
public final class LocalCluster implements AutoCloseable {

    /**
     * How many of each; {@code dir} holds data and one log file per process; {@code jvmOptions}: more options of
     * every process ({@link JavaProcess#C1_ONLY} to start fast, none to run at full speed once warm).
     */
    public record Options(Path dir, int brokers, int routers, int fanouts, int partitions, List<String> jvmOptions) {
        public static Options defaults(Path dir) {
            return new Options(dir, 3, 2, 2, Topics.DEFAULT_PARTITIONS, JavaProcess.C1_ONLY);
        }
    }

    /** One application process: its name, where it answers, how to check it. */
    public record Service(String name, String address, String healthUrl, JavaProcess process) {
        public OptionalLong pid() {
            return process.pid();
        }

        /**
         * The sum of the samples of the Prometheus metric {@code name} on the {@code /metrics} this service serves
         * next to its health URL (routers and fanout nodes do); empty when it does not answer or has no such metric.
         */
        public OptionalDouble metric(HttpClient http, String name) {
            Optional<String> body = get(http, healthUrl.replace("/health", "/metrics"));
            if (body.isEmpty()) {
                return OptionalDouble.empty();
            }
            double sum = 0;
            boolean found = false;
            for (String line : body.get().split("\n")) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    found = true;
                }
            }
            return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
        }

        /** What this service answers on its health URL, whatever the status; empty when it does not answer. */
        public Optional<String> health(HttpClient http) {
            return get(http, healthUrl);
        }

        private static Optional<String> get(HttpClient http, String url) {
            try {
                return Optional.of(http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.ofString()).body());
            } catch (IOException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    private final EmbeddedKafka kafka;
    private final Map<String, Service> services;
    private final String registryUrl;
    private final String demoSecret;

    private LocalCluster(EmbeddedKafka kafka, Map<String, Service> services, String registryUrl, String secret) {
        this.kafka = kafka;
        this.services = services;
        this.registryUrl = registryUrl;
        this.demoSecret = secret;
    }

    public static LocalCluster start(Options options, Consumer<String> progress) throws Exception {
        Path dir = Files.createDirectories(options.dir());
        progress.accept("starting " + options.brokers() + " Kafka brokers as child JVMs");
        EmbeddedKafka kafka = EmbeddedKafka.builder().nodes(options.brokers()).mode(EmbeddedKafka.Mode.CHILD_PROCESS)
                .dataDir(dir.resolve("kafka")).childHeapMb(384).childJvmOptions(options.jvmOptions())
                .startTimeout(Duration.ofSeconds(120)).start();
        Map<String, Service> services = new LinkedHashMap<>();
        try {
            String bootstrap = kafka.bootstrapServers();
            int registryPort = freePort();
            Service registry = service("registry", "dev.agentevents.embedded.RegistryMain", Map.of(
                    "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
                    "REGISTRY_PORT", Integer.toString(registryPort),
                    "REGISTRY_REPLICATION_FACTOR", Integer.toString(Math.min(3, options.brokers()))),
                    "http://127.0.0.1:" + registryPort, "http://127.0.0.1:" + registryPort + "/health", dir, 256,
                    options.jvmOptions());
            services.put(registry.name(), registry);
            progress.accept("starting the schema registry");
            awaitHealthy(registry);
            String registryUrl = "http://127.0.0.1:" + registryPort;

            progress.accept("creating the topics (" + options.partitions() + " partitions)");
            EmbeddedStack.ensureTopics(kafka, new SchemaRegistryClient(registryUrl), Topics.defaults(),
                    options.partitions());

            for (int i = 1; i <= options.routers(); i++) {
                int port = freePort();
                Map<String, String> env = new HashMap<>();
                env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
                env.put("SCHEMA_REGISTRY_URL", registryUrl);
                env.put("ROUTER_STATE_DIR", dir.resolve("router-" + i + "-state").toString());
                env.put("ROUTER_HTTP_PORT", Integer.toString(port));
                env.put("ROUTER_REPLICATION_FACTOR", Integer.toString(Math.min(3, options.brokers())));
                // fast failover: the brokers allow it (docs/operations.md)
                env.put("ROUTER_SESSION_TIMEOUT_MS", "3000");
                env.put("ROUTER_TRANSACTION_TIMEOUT_MS", "3000");
                // ten JVMs on a few cores make a commit take longer than the default 50 ms, and then Kafka Streams
                // processes one record per task between commits (docs/operations.md); this JVM's environment may set
                // another
                env.put("ROUTER_COMMIT_INTERVAL_MS", System.getenv().getOrDefault("ROUTER_COMMIT_INTERVAL_MS", "250"));
                Service router = service("router-" + i, "dev.agentevents.router.RouterMain", env,
                        "metrics http://127.0.0.1:" + port + "/metrics", "http://127.0.0.1:" + port + "/health", dir,
                        512, options.jvmOptions());
                services.put(router.name(), router);
            }
            String secret = "local-cluster-demo-secret-" + Long.toHexString(System.nanoTime()) + "-0123456789";
            for (int i = 1; i <= options.fanouts(); i++) {
                int port = freePort();
                Map<String, String> env = new HashMap<>();
                env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
                env.put("SCHEMA_REGISTRY_URL", registryUrl);
                env.put("FANOUT_HOST", "127.0.0.1");
                env.put("FANOUT_PORT", Integer.toString(port));
                env.put("FANOUT_NODE_ID", "fanout-" + i);
                env.put("FANOUT_JWT_HS256_SECRET", secret);
                env.put("FANOUT_DEMO", "true");
                // every client of a local cluster comes from 127.0.0.1: the per-address cap would only cap the test
                env.put("FANOUT_MAX_CONNECTIONS_PER_ADDRESS", "20000");
                env.put("FANOUT_SESSION_TIMEOUT_MS", "3000");
                Service fanout = service("fanout-" + i, "dev.agentevents.fanout.FanoutMain", env,
                        "http://127.0.0.1:" + port + "/", "http://127.0.0.1:" + port + "/health", dir, 512,
                        options.jvmOptions());
                services.put(fanout.name(), fanout);
            }
            progress.accept("starting " + options.routers() + " routers and " + options.fanouts()
                    + " fanout nodes, waiting until healthy");
            for (Service service : services.values()) {
                awaitHealthy(service);
            }
            return new LocalCluster(kafka, services, registryUrl, secret);
        } catch (Exception | Error e) {
            services.values().forEach(s -> s.process().kill());
            kafka.close();
            throw e;
        }
    }

    private static Service service(String name, String mainClass, Map<String, String> env, String address,
                                   String health, Path dir, int heapMb, List<String> jvmOptions) {
        JavaProcess process = new JavaProcess(name, mainClass, List.of(),
                Stream.concat(Stream.of("-Xmx" + heapMb + "m", "-XX:+UseSerialGC"),
                        jvmOptions.stream()).toList(),
                env, dir.resolve("logs").resolve(name + ".log"));
        process.start();
        return new Service(name, address, health, process);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Waits until {@code service} answers its health URL with 200. */
    public static void awaitHealthy(Service service) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (!service.process().isAlive()) {
                throw new IllegalStateException(service.name() + " exited (" + service.process().exitCode()
                        + "); end of its log:\n" + service.process().tail(30));
            }
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(service.healthUrl()))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(service.name() + " did not become healthy at " + service.healthUrl()
                + " within 120 s; end of its log:\n" + service.process().tail(30));
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** The HS256 secret the fanout nodes verify tokens with (they also serve {@code /dev/token}). */
    public String demoSecret() {
        return demoSecret;
    }

    public List<Service> services() {
        return new ArrayList<>(services.values());
    }

    public Service service(String name) {
        Service service = services.get(name);
        if (service == null) {
            throw new IllegalArgumentException("no process '" + name + "'; there are " + services.keySet());
        }
        return service;
    }

    /** A table of every process: name, address, pid. */
    public String describe() {
        StringBuilder table = new StringBuilder();
        for (int id : kafka.nodeIds()) {
            table.append(String.format("%-10s %-40s pid %s%n", "kafka-" + id,
                    kafka.bootstrapServers().split(",")[id - 1], kafka.pid(id).isPresent() ? kafka.pid(id).getAsLong()
                            : "-"));
        }
        for (Service service : services.values()) {
            table.append(String.format("%-10s %-40s pid %s%n", service.name(), service.address(),
                    service.pid().isPresent() ? service.pid().getAsLong() : "-"));
        }
        return table.toString();
    }

    @Override
    public void close() {
        List<Service> reversed = new ArrayList<>(services.values());
        java.util.Collections.reverse(reversed);
        reversed.forEach(s -> s.process().stop(30));
        kafka.close();
    }
}
