package dev.agentevents.embedded;

import dev.agentevents.schemas.Topics;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
        System.err.println("starting Kafka (KRaft, 1 node) on 127.0.0.1:" + kafkaPort
                + " and the schema registry on 127.0.0.1:" + registryPort + " ...");
        EmbeddedStack stack = EmbeddedStack.start(EmbeddedStack.Options.defaults()
                .withPorts(kafkaPort, registryPort).withDataDir(dataDir).withPartitions(partitions)
                .withTopics(new Topics(topicPrefix)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("stopping ...");
            stack.close();
            System.err.println("stopped");
            stopped.countDown();
        }, "embedded-shutdown"));
        System.out.println("READY kafka=" + stack.bootstrapServers() + " registry=" + stack.registryUrl());
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
