package dev.agentevents.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.utils.Time;

/** One KRaft node (broker and controller) of an {@link EmbeddedKafka} cluster, in this JVM or a child JVM. */
final class KafkaNode {

    private final int id;
    private final int brokerPort;
    private final Path dir;
    private final Properties props;
    private final String clusterId;
    private final int childHeapMb;
    private final List<String> childJvmOptions;
    private KafkaRaftServer server;
    private boolean killed;
    private JavaProcess process;

    KafkaNode(int id, int brokerPort, Path dir, Properties props, String clusterId, int childHeapMb,
              List<String> childJvmOptions) {
        this.id = id;
        this.brokerPort = brokerPort;
        this.dir = dir;
        this.props = props;
        this.clusterId = clusterId;
        this.childHeapMb = childHeapMb;
        this.childJvmOptions = childJvmOptions;
        props.setProperty("log.dirs", dir.resolve("data").toString());
    }

    int id() {
        return id;
    }

    int brokerPort() {
        return brokerPort;
    }

    synchronized boolean isRunning() {
        return server != null || (process != null && process.isAlive());
    }

    synchronized OptionalLong pid() {
        return process != null ? process.pid() : OptionalLong.empty();
    }

    synchronized void start(EmbeddedKafka.Mode mode) {
        Path propsFile = writeProperties();
        formatOnce(propsFile);
        killed = false;
        if (mode == EmbeddedKafka.Mode.IN_PROCESS) {
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
        } else {
            if (process == null) {
                process = childProcess(propsFile);
            }
            process.start();
        }
    }

    /** Fails fast, with the end of its log, when a child JVM died while the cluster waits for it. */
    synchronized void checkAlive() {
        if (process != null && process.exitCode().isPresent() && !killed) {
            throw new IllegalStateException("Kafka node " + id + " exited with code " + process.exitCode().getAsLong()
                    + "; end of " + process.logFile() + ":\n" + process.tail(30));
        }
    }

    synchronized void kill() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running");
        }
        killed = true;
        process.kill();
    }

    synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
        if (process != null) {
            killed = true;
            process.stop(30);
        }
    }

    private Path writeProperties() {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("server.properties");
            try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                props.store(out, "node " + id);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the configuration of node " + id + " under " + dir, e);
        }
    }

    private void formatOnce(Path propsFile) {
        if (Files.exists(dir.resolve("data").resolve("meta.properties"))) {
            return;
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", propsFile.toString()}, out);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting storage of node " + id + " failed (" + rc + "): "
                    + output.toString(StandardCharsets.UTF_8));
        }
    }

    private JavaProcess childProcess(Path propsFile) {
        Path log4j = dir.resolve("log4j2.properties");
        try {
            Files.writeString(log4j, String.join("\n",
                    "status = warn",
                    "appender.out.type = Console",
                    "appender.out.name = out",
                    "appender.out.layout.type = PatternLayout",
                    "appender.out.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = WARN",
                    "rootLogger.appenderRef.out.ref = out",
                    "logger.broker.name = kafka.server.BrokerServer",
                    "logger.broker.level = INFO",
                    "logger.controller.name = org.apache.kafka.controller.QuorumController",
                    "logger.controller.level = INFO",
                    // why a follower truncates its log or gives up on a partition ("marked as failed") is INFO
                    "logger.fetcher.name = kafka.server.ReplicaFetcherThread",
                    "logger.fetcher.level = INFO",
                    // when a group or transaction coordinator starts and finishes loading its partition
                    "logger.coordinator.name = org.apache.kafka.coordinator.common.runtime.CoordinatorRuntime",
                    "logger.coordinator.level = INFO",
                    // group coordinator: joins, leaves, rebalances and their reasons (where a failover's seconds go)
                    "logger.groups.name = org.apache.kafka.coordinator.group",
                    "logger.groups.level = INFO",
                    // transaction coordinator: loading, timeouts, aborts, markers
                    "logger.transactions.name = kafka.coordinator.transaction",
                    "logger.transactions.level = INFO",
                    ""), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log4j, e);
        }
        return new JavaProcess("kafka-" + id, "kafka.Kafka", List.of(propsFile.toString()),
                Stream.concat(Stream.of("-Xmx" + childHeapMb + "m", "-XX:+UseSerialGC",
                        "-Dlog4j2.configurationFile=" + log4j.toUri()), childJvmOptions.stream()).toList(),
                java.util.Map.of(), dir.resolve("kafka.log"));
    }

}
