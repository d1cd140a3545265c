package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.testing.Records;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("slow")
class EmbeddedKafkaTest {

    @Test
    void shouldKeepDataWhenSingleInProcessBrokerRestartsOnSameDirectory(@TempDir Path dir) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dir).start()) {
            createTopic(kafka, "durable", 1, 1);
            produce(kafka, "durable", List.of("a", "b", "c"));
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dir).start()) {
            assertThat(consume(kafka, "durable", 3)).containsExactly("a", "b", "c");
        }
    }

    @Test
    void shouldKeepServingAcknowledgedRecordsWhenActiveControllerIsKilled(@TempDir Path dir) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().nodes(3).mode(EmbeddedKafka.Mode.CHILD_PROCESS)
                .dataDir(dir).start()) {
            assertThat(kafka.pid(1)).isPresent();
            createTopic(kafka, "replicated", 3, 3);
            List<String> before = List.of("one", "two", "three");
            produce(kafka, "replicated", before);

            int controller = kafka.activeControllerId();
            long t0 = System.nanoTime();
            kafka.kill(controller);
            assertThat(kafka.isRunning(controller)).isFalse();
            produce(kafka, "replicated", List.of("four"));
            long t1 = System.nanoTime();
            kafka.start(controller);
            long t2 = System.nanoTime();
            System.out.printf("killed controller %d; produce after kill %d ms; restart %d ms%n", controller,
                    (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);

            assertThat(consume(kafka, "replicated", 4)).containsExactlyInAnyOrder("one", "two", "three", "four");
        }
    }

    @Test
    void shouldRefuseKillWhenNodesRunInProcess() {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().start()) {
            assertThatThrownBy(() -> kafka.kill(1))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("kill -9 needs Mode.CHILD_PROCESS; this cluster runs IN_PROCESS");
        }
    }

    private static void createTopic(EmbeddedKafka kafka, String name, int partitions, int replicas)
            throws Exception {
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) replicas))).all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    private static void produce(EmbeddedKafka kafka, String topic, List<String> values) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000),
                new StringSerializer(), new StringSerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, value, value)).get(60, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> consume(EmbeddedKafka kafka, String topic, int count) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            return Records.atLeast(consumer, count, Duration.ofSeconds(60)).stream().map(ConsumerRecord::value).toList();
        }
    }
}
