package dev.agentevents.fanout;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node gives partitions away without leaving their users in silence: when it stops (it has left the group)
 * and when the group takes some from it for a node that joins. It goes on reading them — assigned by hand, from
 * where it was — and serving their connections until the group names each partition's new owner, seen twice
 * {@value #LOOK_EVERY_MS} ms apart (the owner's assignment is in the group a moment before it has seeked and taken the
 * partition on). Then that partition's connections are told {@code moved} with the new owner's URL and resume there
 * from their last position: nothing is lost and nothing repeated, as with any move. What nobody has taken within the
 * limit (no other node, a rebalance that does not finish, an owner whose URL is not allowed) is released with no URL;
 * its clients ask {@code /route}. A partition the group gives back to this node meanwhile is {@link #cancel}led: the
 * feed owns it again. {@link #serve} runs on the thread that owns the consumer; {@link #cancel} on any.
 */
final class Handover {

    private static final Logger LOG = LoggerFactory.getLogger(Handover.class);
    static final long LOOK_EVERY_MS = 100;

    private final FanoutConfig config;
    private final SubscriberRegistry registry;
    private final OwnerDirectory owners;
    private final String ownUrl;
    private final Map<TopicPartition, Long> positions;
    // guarded by this: the partitions still served, and those cancelled but not yet paused
    private final Set<TopicPartition> left;
    private final Set<TopicPartition> cancelled = new HashSet<>();
    private final long createdAtMs = System.currentTimeMillis();

    /** To hand over {@code positions}' partitions, each to be read on from its position. */
    Handover(FanoutConfig config, SubscriberRegistry registry, OwnerDirectory owners, String ownUrl,
             Map<TopicPartition, Long> positions) {
        this.config = config;
        this.registry = registry;
        this.owners = owners;
        this.ownUrl = ownUrl;
        this.positions = Map.copyOf(positions);
        this.left = new HashSet<>(positions.keySet());
    }

    /** The group gave {@code partitions} back to this node: those handed over here are not served or released. */
    synchronized void cancel(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            if (left.remove(tp)) {
                cancelled.add(tp);
            }
        }
    }

    /**
     * Serves the partitions on {@code consumer} (not subscribed to the group; assigned here) until each has a new
     * owner or {@code limit}; what is left then (or when reading fails) is released with no URL, counted as
     * {@code leftCause}.
     */
    void serve(KafkaConsumer<byte[], byte[]> consumer, Duration limit, FanoutMetrics.MoveCause leftCause) {
        consumer.assign(positions.keySet());
        positions.forEach(consumer::seek);
        LOG.info("node {} serves partitions {} until their new owners have them", config.nodeId(),
                numbers(positions.keySet()));

        try {
            serveUntilTaken(consumer, limit);
        } finally {
            release(leftCause);
        }
    }

    private void serveUntilTaken(KafkaConsumer<byte[], byte[]> consumer, Duration limit) {
        Map<Integer, String> seenOnce = new HashMap<>();
        long deadline = createdAtMs + limit.toMillis();
        long nextLook = createdAtMs + LOOK_EVERY_MS;
        while (System.currentTimeMillis() < deadline) {
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(LOOK_EVERY_MS / 2));
            synchronized (this) {
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (left.contains(new TopicPartition(record.topic(), record.partition()))) {
                        registry.dispatch(record);
                    }
                }
                consumer.pause(cancelled);
                cancelled.clear();
                if (left.isEmpty()) {
                    break;
                }
            }
            if (System.currentTimeMillis() < nextLook) {
                continue;
            }
            nextLook = System.currentTimeMillis() + LOOK_EVERY_MS;
            OwnerDirectory.Look look;
            try {
                look = owners.lookNow();
            } catch (Exception e) {
                LOG.warn("node {} cannot read the fanout group while handing over: {}", config.nodeId(), e.toString());
                continue;
            }
            if (look.members() == 0) {
                LOG.info("node {}: no node is in the group to take partitions {}", config.nodeId(), numbers(left()));
                break;
            }
            Set<TopicPartition> taken = handOver(look, seenOnce);
            if (!taken.isEmpty()) {
                consumer.pause(taken);
                LOG.info("node {} handed partitions {} over after {} ms", config.nodeId(), numbers(taken),
                        System.currentTimeMillis() - createdAtMs);
            }
        }
    }

    /** Releases, with no URL, what is still served: nobody took it in time, or it cannot be read. */
    synchronized void release(FanoutMetrics.MoveCause cause) {
        if (!left.isEmpty()) {
            LOG.warn("node {}: partitions {} had no new owner {} ms after the hand-over began; their clients ask"
                    + " /route", config.nodeId(), numbers(left), System.currentTimeMillis() - createdAtMs);
            for (TopicPartition tp : left) {
                registry.release(tp.partition(), null, cause);
            }
            left.clear();
        }
    }

    /** Tells the connections of each partition whose new owner the group names (twice running) to move there. */
    private synchronized Set<TopicPartition> handOver(OwnerDirectory.Look look, Map<Integer, String> seenOnce) {
        Set<TopicPartition> taken = new HashSet<>();
        for (TopicPartition tp : left) {
            String url = look.owners().get(tp.partition());
            // our own URL: the group has not processed our leaving yet, or gives the partition back to us
            if (url != null && !url.equals(ownUrl) && url.equals(seenOnce.get(tp.partition()))
                    && config.nodeUrlAllowed(url, ownUrl)) {
                registry.release(tp.partition(), url, FanoutMetrics.MoveCause.HANDOVER);
                taken.add(tp);
            }
            seenOnce.put(tp.partition(), url);
        }
        left.removeAll(taken);
        return taken;
    }

    private synchronized Set<TopicPartition> left() {
        return Set.copyOf(left);
    }

    /** The partitions' numbers in order, for the log. */
    static SortedSet<Integer> numbers(Collection<TopicPartition> partitions) {
        SortedSet<Integer> numbers = new TreeSet<>();
        partitions.forEach(tp -> numbers.add(tp.partition()));
        return numbers;
    }
}
