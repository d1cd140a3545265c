package dev.agentevents.router;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far the router group has read its input, in wall-clock time: {@link #caughtUpAt(int)} is the latest time T
 * such that everything published to that input partition before T has been processed and committed.
 *
 * <p>The router's timeouts ask this before acting on silence. A run is abandoned, a missing seq given up and a
 * finished run forgotten only when the router has read everything published up to the deadline: silence that is
 * really a backlog (the router was restarted, stalled in a rebalance, cut off from the brokers, or is just behind)
 * never turns into a false {@code ABANDONED} or gap that would then push the agent's real events to the dead
 * letters. If the brokers cannot be asked, the time does not advance and the timeouts wait.
 *
 * <p>The monitor asks the brokers every tick for the end offset of each input partition and for the group's
 * committed offsets; when the committed offset reaches an end offset seen at an earlier tick, that tick's time is
 * the partition's new caught-up time.
 */
interface InputProgress extends AutoCloseable {

    /** The latest wall-clock time up to which everything published to input {@code partition} was processed. */
    long caughtUpAt(int partition);

    @Override
    default void close() {
    }

    /** No backlog ever: the timeouts follow the wall clock alone (the topology test driver has no broker to ask). */
    InputProgress NO_BACKLOG = partition -> Long.MAX_VALUE;

    /** Watches the group {@code groupId} on {@code topic} through {@code admin}, every {@code tick}. */
    static Monitor watch(Admin admin, String topic, String groupId, Duration tick) {
        return new Monitor(admin, topic, groupId, tick);
    }

    final class Monitor implements InputProgress {

        private static final Logger LOG = LoggerFactory.getLogger(InputProgress.class);
        private static final int HISTORY = 1200;

        private final Admin admin;
        private final String topic;
        private final String groupId;
        private final Map<Integer, Long> caughtUp = new ConcurrentHashMap<>();
        /** Per partition: (time, end offset) seen at each tick, oldest first; pruned once caught up past them. */
        private final Map<Integer, ArrayDeque<long[]>> seen = new HashMap<>();
        private final Thread thread;
        private volatile boolean running = true;
        private List<TopicPartition> partitions;
        /** The time of the first look. */
        private long startedAt = -1;

        /** A monitor that looks every {@code tick}, or only when {@link #tick} is called if {@code tick} is null. */
        Monitor(Admin admin, String topic, String groupId, Duration tick) {
            this.admin = admin;
            this.topic = topic;
            this.groupId = groupId;
            this.thread = tick == null ? null : new Thread(() -> {
                while (running) {
                    try {
                        tick(System.currentTimeMillis());
                    } catch (Exception e) {
                        LOG.debug("cannot read the input progress of {} now: {}", groupId, e.toString());
                    }
                    try {
                        Thread.sleep(tick.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "router-input-progress");
            if (thread != null) {
                thread.setDaemon(true);
                thread.start();
            }
        }

        @Override
        public long caughtUpAt(int partition) {
            return caughtUp.getOrDefault(partition, 0L);
        }

        /** One look at the end offsets and the committed offsets, both taken after {@code now}. */
        synchronized void tick(long now) throws Exception {
            if (startedAt < 0) {
                startedAt = now;
            }
            if (partitions == null) {
                partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic)
                        .partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            }
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                    .get(5, TimeUnit.SECONDS);
            for (TopicPartition tp : partitions) {
                ArrayDeque<long[]> history = seen.computeIfAbsent(tp.partition(), p -> new ArrayDeque<>());
                history.addLast(new long[] {now, ends.get(tp).offset()});
                if (history.size() > HISTORY) {
                    history.removeFirst();
                }
            }
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata offset = committed.get(tp);
                long position = offset == null ? 0 : offset.offset();
                ArrayDeque<long[]> history = seen.get(tp.partition());
                long[] reached = null;
                while (!history.isEmpty() && history.peekFirst()[1] <= position) {
                    reached = history.removeFirst();
                }
                if (reached != null) {
                    caughtUp.merge(tp.partition(), reached[0], Math::max);
                }
            }
        }

        /**
         * How far behind wall-clock time the partition furthest behind is, in milliseconds; a partition not caught
         * up since this monitor's first look counts from that look (at least that far behind; it is not known how much
         * further), not from the epoch.
         */
        synchronized long maxBehindMs(long now) {
            if (partitions == null) {
                return -1;
            }
            long worst = 0;
            for (TopicPartition tp : partitions) {
                worst = Math.max(worst, now - Math.max(startedAt, caughtUpAt(tp.partition())));
            }
            return worst;
        }

        @Override
        public void close() {
            running = false;
            if (thread != null) {
                thread.interrupt();
                try {
                    thread.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            admin.close(Duration.ofSeconds(5));
        }
    }
}
