package dev.agentevents.replay;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Reads one topic between two times, partition by partition, without joining a consumer group: start and end
 * offsets come from {@code offsetsForTimes}; with a user, only the partition that holds the user is read. Streams
 * every record to the caller; holds nothing itself.
 */
final class TopicReader implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Duration pollTimeout;

    TopicReader(Map<String, Object> kafka, Duration pollTimeout) {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        config.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "agent-events-replay");
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.pollTimeout = pollTimeout;
    }

    /** The range to read: partition → [start, end) offsets. */
    record Plan(Map<TopicPartition, long[]> ranges) {
        long total() {
            return ranges.values().stream().mapToLong(r -> Math.max(0, r[1] - r[0])).sum();
        }

        List<Integer> partitions() {
            return ranges.keySet().stream().map(TopicPartition::partition).sorted().toList();
        }
    }

    Plan plan(String topic, Instant from, Instant to, String user) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalArgumentException("topic '" + topic + "' does not exist (or has no partitions)");
        }
        List<TopicPartition> partitions = new ArrayList<>();
        if (user != null) {
            int p = Utils.toPositive(Utils.murmur2(user.getBytes(StandardCharsets.UTF_8))) % infos.size();
            partitions.add(new TopicPartition(topic, p));
        } else {
            infos.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        }
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        Map<TopicPartition, Long> starts = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
        Map<TopicPartition, Long> fromOffsets = offsetsAt(partitions, from, starts, ends);
        Map<TopicPartition, Long> toOffsets = offsetsAt(partitions, to, ends, ends);
        Map<TopicPartition, long[]> ranges = new HashMap<>();
        for (TopicPartition tp : partitions) {
            ranges.put(tp, new long[] {fromOffsets.get(tp), Math.max(fromOffsets.get(tp), toOffsets.get(tp))});
        }
        return new Plan(ranges);
    }

    /** First offset at or after {@code time} per partition; {@code open} when time is null, the end when none. */
    private Map<TopicPartition, Long> offsetsAt(List<TopicPartition> partitions, Instant time,
                                               Map<TopicPartition, Long> open, Map<TopicPartition, Long> ends) {
        if (time == null) {
            return open;
        }
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, time.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, Duration.ofSeconds(30));
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndTimestamp at = found.get(tp);
            offsets.put(tp, at == null ? ends.get(tp) : at.offset());
        }
        return offsets;
    }

    /** Reads every record of {@code plan}, in offset order per partition. */
    void read(Plan plan, Consumer<ConsumerRecord<byte[], byte[]>> each, Runnable tick) {
        List<TopicPartition> open = new ArrayList<>();
        plan.ranges().forEach((tp, range) -> {
            if (range[1] > range[0]) {
                open.add(tp);
            }
        });
        consumer.assign(open);
        open.forEach(tp -> consumer.seek(tp, plan.ranges().get(tp)[0]));
        long idleSince = System.nanoTime();
        while (!open.isEmpty()) {
            var records = consumer.poll(Duration.ofMillis(200));
            if (!records.isEmpty()) {
                idleSince = System.nanoTime();
            }
            for (ConsumerRecord<byte[], byte[]> record : records) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                if (open.contains(tp) && record.offset() < plan.ranges().get(tp)[1]) {
                    each.accept(record);
                }
            }
            List<TopicPartition> finished = open.stream()
                    .filter(tp -> consumer.position(tp) >= plan.ranges().get(tp)[1]).toList();
            if (!finished.isEmpty()) {
                consumer.pause(finished);
                open.removeAll(finished);
            }
            tick.run();
            if (System.nanoTime() - idleSince > pollTimeout.toNanos()) {
                throw new IllegalStateException("no records arrived for " + pollTimeout.toMillis() + " ms although "
                        + "partitions " + open + " should still have some (REPLAY_POLL_TIMEOUT_MS)");
            }
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
