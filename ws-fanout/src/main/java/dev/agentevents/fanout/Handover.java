package dev.agentevents.fanout;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a stopping node gives its partitions away without leaving its users in silence. It leaves the fanout group, so
 * the other nodes are assigned its partitions at once, but goes on reading them — assigned by hand, from where it
 * was — and serving its connections until the group names each partition's new owner, seen twice
 * {@value #LOOK_EVERY_MS} ms apart (the owner's assignment is in the group a moment before it has seeked and taken the
 * partition on). Then that partition's connections are told {@code moved} with the new owner's URL and resume there
 * from their last position: nothing is lost and nothing repeated, as with any move. What nobody has taken within the
 * limit (no other node, a rebalance that does not finish, an owner whose URL is not allowed) the caller releases; its
 * clients ask {@code /route}. Runs on the feed's thread, which owns the consumer.
 */
final class Handover {

    private static final Logger LOG = LoggerFactory.getLogger(Handover.class);
    static final long LOOK_EVERY_MS = 100;

    private final FanoutConfig config;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SubscriberRegistry registry;
    private final OwnerDirectory owners;
    private final String ownUrl;

    Handover(FanoutConfig config, KafkaConsumer<byte[], byte[]> consumer, SubscriberRegistry registry,
             OwnerDirectory owners, String ownUrl) {
        this.config = config;
        this.consumer = consumer;
        this.registry = registry;
        this.owners = owners;
        this.ownUrl = ownUrl;
    }

    /**
     * Leaves the group (the feed's rebalance listener must not release what it revokes: {@code leave} is called
     * once the positions are taken) and serves the partitions it held until each has a new owner, or {@code limit}.
     */
    void run(Runnable leave, Duration limit) {
        Set<TopicPartition> held = consumer.assignment();
        if (held.isEmpty()) {
            return;
        }
        Map<TopicPartition, Long> positions = new HashMap<>();
        for (TopicPartition tp : held) {
            positions.put(tp, consumer.position(tp));
        }
        long started = System.currentTimeMillis();
        leave.run();
        consumer.assign(held);
        positions.forEach(consumer::seek);
        LOG.info("node {} left the group and serves partitions {} until their new owners have them", config.nodeId(),
                numbers(held));

        Set<TopicPartition> left = new HashSet<>(held);
        Map<Integer, String> seenOnce = new HashMap<>();
        long deadline = started + limit.toMillis();
        long nextLook = started + LOOK_EVERY_MS;
        while (!left.isEmpty() && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(LOOK_EVERY_MS / 2))) {
                registry.dispatch(record);
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
                LOG.info("node {}: no other node is in the group to take partitions {}", config.nodeId(),
                        numbers(left));
                break;
            }
            Set<TopicPartition> taken = new HashSet<>();
            for (TopicPartition tp : left) {
                String url = look.owners().get(tp.partition());
                // our own URL: the group has not processed our leaving yet
                if (url != null && !url.equals(ownUrl) && url.equals(seenOnce.get(tp.partition()))
                        && config.nodeUrlAllowed(url, ownUrl)) {
                    registry.release(tp.partition(), url, FanoutMetrics.MoveCause.HANDOVER);
                    taken.add(tp);
                }
                seenOnce.put(tp.partition(), url);
            }
            if (!taken.isEmpty()) {
                left.removeAll(taken);
                consumer.pause(taken);
                LOG.info("node {} handed partitions {} over after {} ms", config.nodeId(), numbers(taken),
                        System.currentTimeMillis() - started);
            }
        }
        if (!left.isEmpty()) {
            LOG.warn("node {}: partitions {} had no new owner {} ms after it left the group; their clients ask /route",
                    config.nodeId(), numbers(left), System.currentTimeMillis() - started);
        }
    }

    private static SortedSet<Integer> numbers(Set<TopicPartition> partitions) {
        SortedSet<Integer> numbers = new TreeSet<>();
        partitions.forEach(tp -> numbers.add(tp.partition()));
        return numbers;
    }
}
