package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.embedded.EmbeddedStack;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The caught-up time on a real broker: it follows the group's committed offsets, never the wall clock alone. */
class InputProgressTest {

    private final EmbeddedStack stack = EmbeddedStack.shared();

    @Test
    void shouldAdvanceOnlyWhenTheGroupHasCommittedEverythingPublishedBeforeTheTick() throws Exception {
        String topic = "progress-" + UUID.randomUUID();
        String group = topic + "-group";
        try (Admin admin = stack.kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        produce(topic, 10);
        try (InputProgress.Monitor monitor = new InputProgress.Monitor(stack.kafka().admin(), topic, group, null)) {
            monitor.tick(1_000);
            assertThat(monitor.caughtUpAt(0)).as("10 records, nothing committed").isZero();
            assertThat(monitor.maxBehindMs(1_500)).as("behind since the first look, not since the epoch")
                    .isEqualTo(500);
            assertThat(monitor.caughtUpAt(1)).as("an empty partition is read").isEqualTo(1_000);

            commit(topic, group, 10);
            monitor.tick(2_000);
            assertThat(monitor.caughtUpAt(0)).isEqualTo(2_000);

            produce(topic, 5);
            monitor.tick(3_000);
            commit(topic, group, 12);
            monitor.tick(4_000);
            assertThat(monitor.caughtUpAt(0)).as("3 of the records before 3 s are still unread").isEqualTo(2_000);
            assertThat(monitor.maxBehindMs(4_000)).isEqualTo(2_000);

            commit(topic, group, 15);
            monitor.tick(5_000);
            assertThat(monitor.caughtUpAt(0)).isEqualTo(5_000);
            assertThat(monitor.caughtUpAt(1)).isEqualTo(5_000);
        }
    }

    private void produce(String topic, int count) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()), new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("r" + i).getBytes(StandardCharsets.UTF_8)))
                        .get(10, TimeUnit.SECONDS);
            }
        }
    }

    private void commit(String topic, String group, long offset) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
                group), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(offset)));
        }
    }
}
