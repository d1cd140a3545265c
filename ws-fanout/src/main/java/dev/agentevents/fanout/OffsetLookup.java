package dev.agentevents.fanout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Which offset of {@code agent-events-ordered} a time falls at (Kafka's {@code offsetsForTimes}), for streams that
 * start from a point in the past rather than from a position a client sent. One consumer, used by one caller at a
 * time; blocking: call off the event loop.
 */
final class OffsetLookup implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;

    OffsetLookup(FanoutConfig config, String clientId) {
        this.consumer = new KafkaConsumer<>(PartitionFeed.consumerConfig(config, clientId + "|offsets", null),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = config.topics().ordered();
    }

    /** The first offset of {@code partition} at or after {@code timestampMs}; its end if there is none. */
    synchronized long offsetAt(int partition, long timestampMs) {
        TopicPartition tp = new TopicPartition(topic, partition);
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(Map.of(tp, timestampMs),
                Duration.ofSeconds(10));
        OffsetAndTimestamp at = found.get(tp);
        if (at != null) {
            return at.offset();
        }
        return consumer.endOffsets(List.of(tp), Duration.ofSeconds(10)).get(tp);
    }

    @Override
    public synchronized void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
