package dev.agentevents.fanout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's share of {@code agent-events-ordered}: one consumer (in the group all nodes share) on its own
 * thread, reading the partitions the group gives this node and handing each record to the
 * {@link SubscriberRegistry}, which offers it to the connections of the user its key names — nobody else's. When
 * the group gives or takes a partition, the registry and the {@link OwnerDirectory} learn of it; what it takes for
 * a node that joins is served until that node has it ({@link Handover}), as when this node stops.
 */
final class PartitionFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionFeed.class);

    private final FanoutConfig config;
    private final SubscriberRegistry registry;
    private final OwnerDirectory owners;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final int partitions;
    private final String advertisedUrl;
    private volatile boolean running = true;
    private volatile boolean polled;
    // set once the feed has stopped reading as a member of the group: what it revokes then is not handed over by
    // the rebalance listener (the stopping node's own Handover serves it, or the node failed and releases it all)
    private volatile boolean leaving;
    // partitions the group took from this node for another, each served on its thread until the other has them
    private final Map<Handover, Thread> revokedHandovers = new ConcurrentHashMap<>();
    private final String clientId;

    PartitionFeed(FanoutConfig config, SubscriberRegistry registry, OwnerDirectory owners, String clientId,
                  String advertisedUrl) {
        this.config = config;
        this.registry = registry;
        this.owners = owners;
        this.advertisedUrl = advertisedUrl;
        this.clientId = clientId;
        this.consumer = new KafkaConsumer<>(consumerConfig(config, clientId, config.groupId()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.partitions = consumer.partitionsFor(config.topics().ordered(), Duration.ofSeconds(30)).size();
        this.thread = new Thread(this::run, "fanout-feed-" + config.nodeId());
    }

    /** The consumer settings of the feed ({@code group} set) and of catch-up readers ({@code group} null). */
    static Map<String, Object> consumerConfig(FanoutConfig config, String clientId, String group) {
        Map<String, Object> props = config.kafka().asClientConfig();
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        if (group != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) config.sessionTimeout().toMillis());
            props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(500,
                    config.sessionTimeout().toMillis() / 4));
        }
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        // How long a broker holds a fetch that finds nothing new. A read_committed fetch is answered as soon as a
        // commit moves the partition's last stable offset, so this is not what delivery waits for (measured in
        // docs/operations.md); at 20 ms the two nodes' empty fetches took half a core of an idle local cluster.
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
        return props;
    }

    void start() {
        consumer.subscribe(List.of(config.topics().ordered()), new Rebalance());
        thread.start();
    }

    /** Number of partitions of the ordered topic (fixed at creation). */
    int partitions() {
        return partitions;
    }

    /** The partition that holds {@code userId}'s events: Kafka's default partitioner on the key. */
    int partitionOf(String userId) {
        return Utils.toPositive(Utils.murmur2(userId.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** Whether the feed has polled at least once and is still running. */
    boolean isReady() {
        return running && polled && thread.isAlive();
    }

    private void run() {
        boolean stopped = false;
        try {
            // close() is seen within one poll: no wakeup, which would also break the hand-over's first poll
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    registry.dispatch(record);
                }
                polled = true;
            }
            stopped = true;
        } catch (RuntimeException e) {
            LOG.error("feed stopped: {}", e.toString(), e);
        }
        leaving = true;
        try {
            if (stopped) {
                // the positions first: leaving the group revokes them (and the listener leaves them be)
                Map<TopicPartition, Long> positions = positionsOf(consumer.assignment());
                consumer.unsubscribe();
                if (!positions.isEmpty()) {
                    new Handover(config, registry, owners, advertisedUrl, positions).serve(consumer,
                            handoverLimit(), FanoutMetrics.MoveCause.SHUTDOWN);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("hand-over stopped: {}", e.toString(), e);
        } finally {
            joinHandovers();
            registry.releaseAll(null, FanoutMetrics.MoveCause.SHUTDOWN);
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private Map<TopicPartition, Long> positionsOf(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> positions = new HashMap<>();
        for (TopicPartition tp : partitions) {
            positions.put(tp, consumer.position(tp));
        }
        return positions;
    }

    /**
     * Serves partitions the group took from this node (for a node that joins) on a consumer of their own until
     * their new owner has them: the feed's consumer, a group member, cannot read partitions it is not assigned.
     */
    private void handOverRevoked(Map<TopicPartition, Long> positions) {
        Handover handover = new Handover(config, registry, owners, advertisedUrl, positions);
        Thread thread = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(consumerConfig(config,
                    clientId + "|handover", null), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                handover.serve(reader, handoverLimit(), FanoutMetrics.MoveCause.REBALANCE);
            } catch (RuntimeException e) {
                LOG.warn("hand-over of revoked partitions stopped: {}", e.toString(), e);
                handover.release(FanoutMetrics.MoveCause.REBALANCE);
            } finally {
                revokedHandovers.remove(handover);
                owners.invalidate();
            }
        }, "fanout-handover-" + config.nodeId());
        revokedHandovers.put(handover, thread);
        thread.start();
    }

    private void joinHandovers() {
        for (Thread thread : List.copyOf(revokedHandovers.values())) {
            try {
                thread.join(handoverLimit().toMillis() + 10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** How long a node serves partitions it gives away that the group has not yet given to another node. */
    private Duration handoverLimit() {
        return config.sessionTimeout().multipliedBy(2);
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            if (assigned.isEmpty()) {
                return;
            }
            // given back while still being handed over: the feed reads it again, from here on
            revokedHandovers.keySet().forEach(handover -> handover.cancel(assigned));
            Map<TopicPartition, Long> ends = consumer.endOffsets(assigned);
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(assigned);
            for (TopicPartition tp : assigned) {
                long from = Math.max(starts.get(tp), ends.get(tp) - config.preloadEvents());
                consumer.seek(tp, from);
                registry.own(tp.partition(), from);
            }
            owners.invalidate();
            LOG.info("node {} now owns partitions {}", config.nodeId(), new TreeSet<>(registry.ownedPartitions()));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (leaving || revoked.isEmpty()) {
                return;
            }
            LOG.info("node {} hands over partitions {}", config.nodeId(), Handover.numbers(revoked));
            handOverRevoked(positionsOf(revoked));
            owners.invalidate();
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            if (!lost.isEmpty()) {
                LOG.warn("node {} lost partitions {} (it was out of the group)", config.nodeId(),
                        Handover.numbers(lost));
            }
            release(lost);
        }

        private void release(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                registry.release(tp.partition(), null, FanoutMetrics.MoveCause.REBALANCE);
            }
            owners.invalidate();
        }
    }

    /**
     * Hands this node's partitions over ({@link Handover}: leaves the group at once, serves its connections until
     * the new owners have them, then tells them {@code moved}) and stops; a feed never started (its node failed to
     * start) only closes its consumer.
     */
    @Override
    public void close() {
        if (thread.getState() == Thread.State.NEW) {
            running = false;
            consumer.close(Duration.ofSeconds(10));
            return;
        }
        running = false;
        try {
            thread.join(handoverLimit().toMillis() + 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
