package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.TestEvents;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.testing.Records;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.avro.AvroSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.CachedSchemaRegistryClient;
import org.apache.flink.avro.shaded.org.apache.avro.Schema;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericDatumReader;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericRecord;
import org.apache.flink.avro.shaded.org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged {@code agent-events-embedded.jar} as a user runs it, with Confluent's own client against it. */
class EmbeddedJarIT {

    private static final Path JAR = Path.of("target", "agent-events-embedded.jar");

    record Running(Process process, String kafka, String registry) {
    }

    @Test
    void shouldPrintReadyWithinThirtySecondsAndServeConfluentClientsAcrossRestart(@TempDir Path dataDir)
            throws Exception {
        int kafkaPort = EmbeddedKafka.freePort();
        int registryPort = EmbeddedKafka.freePort();
        int id;
        Running first = launch(kafkaPort, registryPort, dataDir);
        try {
            assertThat(first.kafka()).isEqualTo("127.0.0.1:" + kafkaPort);
            assertThat(first.registry()).isEqualTo("http://127.0.0.1:" + registryPort);
            AgentEvent event = TestEvents.thinking("ivan", "run-jar", 1, "reading the contract");
            try (KafkaProducer<String, AgentEvent> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, first.kafka()), new StringSerializer(),
                    new AvroSerializer<>(new SchemaRegistryClient(first.registry()), Map.of(), false))) {
                producer.send(new ProducerRecord<>(Topics.defaults().events(), "ivan", event)).get(30, TimeUnit.SECONDS);
            }

            byte[] value = firstValue(first.kafka(), Topics.defaults().events());
            CachedSchemaRegistryClient confluent = new CachedSchemaRegistryClient(List.of(first.registry()), 10);
            id = ByteBuffer.wrap(value, 1, 4).getInt();
            Schema writer = (Schema) confluent.getSchemaById(id).rawSchema();
            GenericRecord decoded = new GenericDatumReader<GenericRecord>(writer)
                    .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
            assertThat(decoded.get("runId").toString()).isEqualTo("run-jar");
            assertThat(((GenericRecord) decoded.get("thinking")).get("text").toString())
                    .isEqualTo("reading the contract");
            assertThat(confluent.getId("agent-events-value", new AvroSchema(writer))).isEqualTo(id);
        } finally {
            stop(first.process());
        }
        // a JVM ended by SIGTERM exits 143 after its shutdown hooks ran; "stopped" is the hook's last word
        assertThat(first.process().exitValue()).isEqualTo(143);
        assertThat(Files.readString(stderrLog(dataDir))).contains("stopping ...").endsWith("stopped\n");

        Running second = launch(kafkaPort, registryPort, dataDir);
        try {
            CachedSchemaRegistryClient confluent = new CachedSchemaRegistryClient(List.of(second.registry()), 10);
            assertThat(confluent.getLatestSchemaMetadata("agent-events-value").getId()).isEqualTo(id);
            assertThat(firstValue(second.kafka(), Topics.defaults().events())).isNotEmpty();
        } finally {
            stop(second.process());
        }
    }

    private static Running launch(int kafkaPort, int registryPort, Path dataDir) throws Exception {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString(), "--kafka-port", Integer.toString(kafkaPort),
                "--registry-port", Integer.toString(registryPort), "--data-dir", dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.to(stderrLog(dataDir).toFile()))
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY ")) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        String line = ready.get(30, TimeUnit.SECONDS);
        assertThat(line).as("READY line within 30 s").isNotNull();
        String[] parts = line.split(" ");
        return new Running(process, parts[1].substring("kafka=".length()), parts[2].substring("registry=".length()));
    }

    private static Path stderrLog(Path dataDir) {
        return dataDir.resolveSibling(dataDir.getFileName() + "-stderr.log");
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the embedded jar did not stop within 30 s of SIGTERM");
        }
    }

    private static byte[] firstValue(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "jar-it-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            return Records.first(consumer, Duration.ofSeconds(30)).value();
        }
    }
}
