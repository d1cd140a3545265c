package dev.agentevents.embedded;

import dev.agentevents.embedded.PipelineTopics;
import dev.agentevents.schemas.CompatibilityLevel;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.file.Path;
import org.apache.kafka.clients.admin.Admin;

/**
 * The pipeline's infrastructure in one piece: an {@link EmbeddedKafka} cluster, a {@link SchemaRegistryServer} on
 * it, the pipeline's topics, and their value subjects at FULL_TRANSITIVE. Used by the runnable jar, the one-command
 * demo and tests; {@link #shared()} gives tests of one JVM a single instance.
 */
public final class EmbeddedStack implements AutoCloseable {

    /** How to start a stack; ports 0 mean free ones, a null data directory a fresh temporary one. */
    public record Options(int kafkaPort, int registryPort, Path dataDir, int nodes, EmbeddedKafka.Mode mode,
                          int partitions, Topics topics) {

        public static Options defaults() {
            return new Options(0, 0, null, 1, EmbeddedKafka.Mode.IN_PROCESS, Topics.DEFAULT_PARTITIONS,
                    Topics.defaults());
        }

        public Options withPorts(int kafka, int registry) {
            return new Options(kafka, registry, dataDir, nodes, mode, partitions, topics);
        }

        public Options withDataDir(Path dir) {
            return new Options(kafkaPort, registryPort, dir, nodes, mode, partitions, topics);
        }

        public Options withPartitions(int count) {
            return new Options(kafkaPort, registryPort, dataDir, nodes, mode, count, topics);
        }

        public Options withTopics(Topics names) {
            return new Options(kafkaPort, registryPort, dataDir, nodes, mode, partitions, names);
        }
    }

    private static EmbeddedStack shared;

    private final EmbeddedKafka kafka;
    private final SchemaRegistryServer registry;
    private final Topics topics;

    private EmbeddedStack(EmbeddedKafka kafka, SchemaRegistryServer registry, Topics topics) {
        this.kafka = kafka;
        this.registry = registry;
        this.topics = topics;
    }

    public static EmbeddedStack start(Options options) throws InterruptedException {
        EmbeddedKafka kafka = EmbeddedKafka.builder().nodes(options.nodes()).mode(options.mode())
                .brokerPort(options.kafkaPort()).dataDir(options.dataDir()).start();
        SchemaRegistryServer registry = null;
        try {
            short replication = (short) Math.min(3, options.nodes());
            registry = SchemaRegistryServer.start(RegistryConfig.of(kafka.bootstrapServers(), options.registryPort(),
                    replication));
            ensureTopics(kafka, registry.client(), options.topics(), options.partitions());
            return new EmbeddedStack(kafka, registry, options.topics());
        } catch (RuntimeException | InterruptedException e) {
            if (registry != null) {
                registry.close();
            }
            kafka.close();
            throw e;
        }
    }

    /** Creates the pipeline topics named by {@code names} (if missing) and sets their subjects' compatibility. */
    public static void ensureTopics(EmbeddedKafka kafka, SchemaRegistryClient client, Topics names, int partitions)
            throws InterruptedException {
        try (Admin admin = kafka.admin()) {
            PipelineTopics.ensure(admin, names, partitions, (short) Math.min(3, kafka.nodeCount()));
        }
        client.setCompatibility(Topics.valueSubject(names.events()), CompatibilityLevel.FULL_TRANSITIVE);
        client.setCompatibility(Topics.valueSubject(names.ordered()), CompatibilityLevel.FULL_TRANSITIVE);
    }

    /** Creates another set of pipeline topics on this stack (tests isolate themselves with a prefix). */
    public Topics topicsWithPrefix(String prefix, int partitions) throws InterruptedException {
        Topics names = new Topics(prefix);
        ensureTopics(kafka, registry.client(), names, partitions);
        return names;
    }

    /** One stack for all tests of this JVM, on free ports, stopped when the JVM exits. */
    public static synchronized EmbeddedStack shared() {
        if (shared == null) {
            try {
                shared = start(Options.defaults());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the shared stack", e);
            }
            EmbeddedStack stack = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "shared-stack-shutdown"));
        }
        return shared;
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public SchemaRegistryServer registry() {
        return registry;
    }

    public Topics topics() {
        return topics;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url();
    }

    @Override
    public void close() {
        registry.close();
        kafka.close();
    }
}
