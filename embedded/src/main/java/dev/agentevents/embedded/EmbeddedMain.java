package dev.agentevents.embedded;

import dev.agentevents.schemas.CompatibilityLevel;
import dev.agentevents.schemas.PipelineTopics;
import dev.agentevents.schemas.SchemaRegistryClient;
import dev.agentevents.schemas.Topics;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar embedded/target/agent-events-embedded.jar}: one Kafka broker and the schema registry on
 * loopback, with the pipeline's topics created and their value subjects set to FULL_TRANSITIVE; prints
 * {@code READY kafka=… registry=…} once both answer, and stops cleanly on Ctrl-C.
 */
@Command(name = "agent-events-embedded", mixinStandardHelpOptions = true,
        description = "Runs a real Kafka broker (KRaft) and a Confluent-compatible schema registry on loopback.")
public final class EmbeddedMain implements Callable<Integer> {

    @Option(names = "--kafka-port", description = "Kafka listener port (default: ${DEFAULT-VALUE})")
    int kafkaPort = 9092;

    @Option(names = "--registry-port", description = "schema registry port (default: ${DEFAULT-VALUE})")
    int registryPort = RegistryConfig.DEFAULT_PORT;

    @Option(names = "--data-dir", description = "keep data here across restarts (default: a fresh temporary directory)")
    Path dataDir;

    @Option(names = "--partitions", description = "partitions of the pipeline topics at creation (default: ${DEFAULT-VALUE})")
    int partitions = Topics.DEFAULT_PARTITIONS;

    @Option(names = "--topic-prefix", description = "prefix of the pipeline topics (default: none)")
    String topicPrefix = "";

    @Override
    public Integer call() throws Exception {
        System.err.println("starting Kafka (KRaft, 1 node) on 127.0.0.1:" + kafkaPort + " ...");
        EmbeddedKafka kafka = EmbeddedKafka.builder().brokerPort(kafkaPort).dataDir(dataDir).start();
        SchemaRegistryServer registry;
        try {
            System.err.println("starting the schema registry on 127.0.0.1:" + registryPort + " ...");
            registry = SchemaRegistryServer.start(RegistryConfig.of(kafka.bootstrapServers(), registryPort, (short) 1));
            Topics topics = new Topics(topicPrefix);
            System.err.println("creating topics " + topics.all() + " ...");
            try (Admin admin = kafka.admin()) {
                PipelineTopics.ensure(admin, topics, partitions, (short) 1);
            }
            SchemaRegistryClient client = registry.client();
            client.setCompatibility(Topics.valueSubject(topics.events()), CompatibilityLevel.FULL_TRANSITIVE);
            client.setCompatibility(Topics.valueSubject(topics.ordered()), CompatibilityLevel.FULL_TRANSITIVE);
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("stopping ...");
            registry.close();
            kafka.close();
            System.err.println("stopped");
            stopped.countDown();
        }, "embedded-shutdown"));
        System.out.println("READY kafka=" + kafka.bootstrapServers() + " registry=" + registry.url());
        System.out.flush();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new EmbeddedMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
