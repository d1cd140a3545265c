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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.utils.Time;

/** One KRaft node (broker and controller) of an {@link EmbeddedKafka} cluster, in this JVM or a child JVM. */
final class KafkaNode {

    /** Child JVMs still running, killed if this JVM exits without closing its clusters. */
    private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CHILDREN.forEach(Process::destroyForcibly),
                "embedded-kafka-children-reaper"));
    }

    private final int id;
    private final int brokerPort;
    private final Path dir;
    private final Properties props;
    private final String clusterId;
    private final int childHeapMb;
    private KafkaRaftServer server;
    private Process process;

    KafkaNode(int id, int brokerPort, Path dir, Properties props, String clusterId, int childHeapMb) {
        this.id = id;
        this.brokerPort = brokerPort;
        this.dir = dir;
        this.props = props;
        this.clusterId = clusterId;
        this.childHeapMb = childHeapMb;
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
        return process != null && process.isAlive() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
    }

    synchronized void start(EmbeddedKafka.Mode mode) {
        Path propsFile = writeProperties();
        formatOnce(propsFile);
        if (mode == EmbeddedKafka.Mode.IN_PROCESS) {
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
        } else {
            process = launchChild(propsFile);
            CHILDREN.add(process);
        }
    }

    /** Fails fast, with the end of its log, when a child JVM died while the cluster waits for it. */
    synchronized void checkAlive() {
        if (process != null && !process.isAlive() && CHILDREN.contains(process)) {
            CHILDREN.remove(process);
            throw new IllegalStateException("Kafka node " + id + " exited with code " + process.exitValue()
                    + "; end of " + logFile() + ":\n" + tail(logFile(), 30));
        }
    }

    synchronized void kill() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("node " + id + " is not running");
        }
        process.destroyForcibly();
        awaitExit(process);
        CHILDREN.remove(process);
        process = null;
    }

    synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
        if (process != null) {
            process.destroy();
            if (!awaitExit(process)) {
                process.destroyForcibly();
                awaitExit(process);
            }
            CHILDREN.remove(process);
            process = null;
        }
    }

    private static boolean awaitExit(Process p) {
        try {
            return p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
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

    private Process launchChild(Path propsFile) {
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
                    ""), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log4j, e);
        }
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + childHeapMb + "m",
                "-XX:+UseSerialGC",
                "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "-cp", System.getProperty("java.class.path"),
                "kafka.Kafka", propsFile.toString());
        try {
            return new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch a JVM for Kafka node " + id, e);
        }
    }

    Path logFile() {
        return dir.resolve("kafka.log");
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read: " + e + ")";
        }
    }
}
