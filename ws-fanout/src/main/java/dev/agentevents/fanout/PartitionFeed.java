package dev.agentevents.fanout;

import dev.agentevents.schemas.AvroDeserializer;
import dev.agentevents.schemas.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's share of {@code agent-events-ordered}: one consumer (in the group all nodes share) on its own
 * thread, reading the partitions the group gives this node and handing each record, as a {@link Frame} made once,
 * to the connections of that record's user — nobody else's. Per owned partition it keeps the recent frames
 * (resumes from memory) and the subscribers by user; older resume positions are read back from Kafka by
 * {@link #catchUp}. When the group takes a partition away, its subscribers are told {@code moved}.
 */
final class PartitionFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionFeed.class);

    /** What a registering subscriber needs to be sent first. */
    sealed interface Start permits Live, FromKafka, NotOwned {
    }

    /** Live from the current position (any recent frames it missed already queued). */
    record Live(String source) implements Start {
    }

    /** Read {@code fromOffset} until {@code toOffset} (exclusive) back from Kafka, then release held frames. */
    record FromKafka(long fromOffset, long toOffset) implements Start {
    }

    record NotOwned() implements Start {
    }

    private static final class Owned {
        final RecentFrames recent;
        // a list, not a set: a user has at most a few connections, and an idle connection's memory counts
        final Map<String, List<Subscriber>> byUser = new HashMap<>();
        long nextOffset;

        Owned(RecentFrames recent, long nextOffset) {
            this.recent = recent;
            this.nextOffset = nextOffset;
        }
    }

    private final FanoutConfig config;
    private final FanoutMetrics metrics;
    private final String clientId;
    private final Map<Integer, Owned> owned = new ConcurrentHashMap<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<GenericRecord> decoder;
    private final Admin admin;
    private final ExecutorService catchups = Executors.newFixedThreadPool(2, r -> {
        Thread thread = new Thread(r, "fanout-catchup");
        thread.setDaemon(true);
        return thread;
    });
    private final Thread thread;
    private final int partitions;
    private volatile boolean running = true;
    private volatile boolean polled;
    private volatile String movedUrlHint;
    private volatile Map<Integer, String> ownersCache = Map.of();
    private volatile long ownersFetchedAt;

    PartitionFeed(FanoutConfig config, FanoutMetrics metrics, String advertisedUrl) {
        this.config = config;
        this.metrics = metrics;
        this.clientId = "fanout|" + config.nodeId() + "|" + advertisedUrl;
        SchemaRegistryClient registry = new SchemaRegistryClient(config.registryUrl());
        this.decoder = AvroDeserializer.generic(registry);
        this.consumer = new KafkaConsumer<>(consumerConfig(clientId, config.groupId()), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        this.admin = Admin.create(config.kafka().asClientConfig());
        this.partitions = consumer.partitionsFor(config.topics().ordered(), Duration.ofSeconds(30)).size();
        this.thread = new Thread(this::run, "fanout-feed-" + config.nodeId());
    }

    private Map<String, Object> consumerConfig(String id, String group) {
        Map<String, Object> props = config.kafka().asClientConfig();
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, id);
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
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
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

    boolean owns(int partition) {
        return owned.containsKey(partition);
    }

    /** Whether the feed has polled at least once and is still running. */
    boolean isReady() {
        return running && polled && thread.isAlive();
    }

    Set<Integer> ownedPartitions() {
        return Set.copyOf(owned.keySet());
    }

    /**
     * The WebSocket URL of the node that owns {@code partition} now, from the group's assignment (cached for a
     * second); null while nobody does (a rebalance is under way). Blocking: call off the event loop.
     */
    String ownerUrl(int partition) {
        long now = System.currentTimeMillis();
        if (now - ownersFetchedAt > 1000) {
            Map<Integer, String> owners = new HashMap<>();
            try {
                ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(config.groupId()))
                        .describedGroups().get(config.groupId()).get(5, TimeUnit.SECONDS);
                for (MemberDescription member : group.members()) {
                    String[] parts = member.clientId().split("\\|", 3);
                    if (parts.length == 3 && parts[0].equals("fanout")) {
                        for (TopicPartition tp : member.assignment().topicPartitions()) {
                            if (tp.topic().equals(config.topics().ordered())) {
                                owners.put(tp.partition(), parts[2]);
                            }
                        }
                    }
                }
            } catch (Exception e) {
                LOG.warn("cannot describe consumer group {}: {}", config.groupId(), e.toString());
                return ownersCache.get(partition);
            }
            ownersCache = owners;
            ownersFetchedAt = now;
        }
        return ownersCache.get(partition);
    }

    /**
     * Registers {@code subscriber}, queueing what it missed after {@code resumeOffset} (null: nothing, live from
     * now) when memory still has it; when it does not, the subscriber is put on hold and the caller must
     * {@link #catchUp} the returned range.
     */
    Start register(Subscriber subscriber, Long resumeOffset) {
        Owned partition = owned.get(subscriber.partition);
        if (partition == null) {
            return new NotOwned();
        }
        synchronized (partition) {
            if (owned.get(subscriber.partition) != partition) {
                // released (and perhaps owned again, as a new Owned) while we waited for the lock: registering
                // here would leave the subscriber on a partition nobody feeds
                return new NotOwned();
            }
            partition.byUser.computeIfAbsent(subscriber.userId, u -> new ArrayList<>(1)).add(subscriber);
            long next = partition.nextOffset;
            if (resumeOffset == null || resumeOffset >= next - 1) {
                subscriber.startAfter(resumeOffset == null ? next - 1 : Math.min(resumeOffset, next - 1));
                return new Live(resumeOffset == null ? "live" : "current");
            }
            long first = partition.recent.firstOffset();
            if (first >= 0 && first <= resumeOffset + 1) {
                subscriber.startAfter(resumeOffset);
                subscriber.offerCatchup(partition.recent.after(resumeOffset, subscriber.userId));
                return new Live("memory");
            }
            subscriber.startAfter(resumeOffset);
            subscriber.hold();
            long end = first >= 0 ? first : next;
            List<Frame> recent = partition.recent.after(end - 1, subscriber.userId);
            catchupTails.put(subscriber, recent);
            return new FromKafka(resumeOffset + 1, end);
        }
    }

    private final Map<Subscriber, List<Frame>> catchupTails = new ConcurrentHashMap<>();

    /** The number of connections of {@code userId} on this node. */
    int connectionsOf(String userId) {
        int count = 0;
        for (Owned partition : owned.values()) {
            synchronized (partition) {
                List<Subscriber> subs = partition.byUser.get(userId);
                count += subs == null ? 0 : subs.size();
            }
        }
        return count;
    }

    void unregister(Subscriber subscriber) {
        catchupTails.remove(subscriber);
        Owned partition = owned.get(subscriber.partition);
        if (partition == null) {
            return;
        }
        synchronized (partition) {
            List<Subscriber> subs = partition.byUser.get(subscriber.userId);
            if (subs != null) {
                subs.remove(subscriber);
                if (subs.isEmpty()) {
                    partition.byUser.remove(subscriber.userId);
                }
            }
        }
    }

    /**
     * Reads {@code range} of the subscriber's partition back from Kafka, in the background, sending the user's
     * frames as the subscriber's queue makes room; then the frames memory held and what arrived live meanwhile.
     * Positions Kafka no longer has, or a range longer than {@code FANOUT_CATCHUP_MAX_RECORDS}, get a reset frame.
     */
    void catchUp(Subscriber subscriber, FromKafka range) {
        catchups.execute(() -> {
            String outcome = readBack(subscriber, range);
            List<Frame> tail = catchupTails.remove(subscriber);
            if (tail != null) {
                subscriber.offerCatchup(tail);
            }
            metrics.resumed(outcome);
            subscriber.release();
        });
    }

    private String readBack(Subscriber subscriber, FromKafka range) {
        TopicPartition tp = new TopicPartition(config.topics().ordered(), subscriber.partition);
        byte[] user = subscriber.userId.getBytes(StandardCharsets.UTF_8);
        try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(consumerConfig(clientId + "|catchup", null),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            reader.assign(List.of(tp));
            long start = reader.beginningOffsets(List.of(tp)).get(tp);
            if (range.fromOffset() < start || range.toOffset() - range.fromOffset() > config.catchupMaxRecords()) {
                String reason = range.fromOffset() < start
                        ? "position " + subscriber.partition + ":" + (range.fromOffset() - 1)
                                + " is older than anything Kafka still keeps (oldest: " + start + ")"
                        : "position " + subscriber.partition + ":" + (range.fromOffset() - 1) + " is more than "
                                + config.catchupMaxRecords() + " records behind";
                subscriber.control(Frame.reset(reason));
                subscriber.startAfter(range.toOffset() - 1);
                return "reset";
            }
            reader.seek(tp, range.fromOffset());
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (reader.position(tp) < range.toOffset() && !subscriber.isClosed()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("catch-up of " + tp + " did not finish in 120 s");
                }
                List<Frame> batch = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> record : reader.poll(Duration.ofMillis(200))) {
                    if (record.offset() >= range.toOffset()) {
                        break;
                    }
                    if (record.key() != null && java.util.Arrays.equals(record.key(), user)) {
                        batch.add(Frame.of(record.partition(), record.offset(),
                                decoder.deserialize(record.topic(), record.value())));
                    }
                }
                subscriber.offerCatchup(batch);
                while (!subscriber.hasRoom()) {
                    Thread.sleep(5);
                }
            }
            return "kafka";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (RuntimeException e) {
            // transient (brokers unreachable, a slow read): the position is still good, so no reset; the client
            // resumes from it again, as after any 4008
            LOG.warn("catch-up for user {} failed: {}", subscriber.userId, e.toString());
            subscriber.closeAfter(null, Subscriber.TOO_SLOW, "could not read your missed events back now; resume "
                    + "from the same position");
            return "failed";
        }
    }

    // ---------------------------------------------------------------- the consumer thread

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    dispatch(record);
                }
                polled = true;
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("feed woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("feed stopped: {}", e.toString(), e);
        } finally {
            moveAll(movedUrlHint, "shutdown");
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private void dispatch(ConsumerRecord<byte[], byte[]> record) {
        Owned partition = owned.get(record.partition());
        if (partition == null) {
            return;
        }
        Frame frame;
        try {
            frame = Frame.of(record.partition(), record.offset(), decoder.deserialize(record.topic(), record.value()));
        } catch (RuntimeException e) {
            LOG.error("skipping undecodable record {}:{} of the ordered topic: {}", record.partition(),
                    record.offset(), e.toString());
            metrics.dropped("undecodable", 1);
            return;
        }
        synchronized (partition) {
            partition.recent.add(frame);
            partition.nextOffset = record.offset() + 1;
            List<Subscriber> subs = partition.byUser.get(frame.userId());
            if (subs != null) {
                for (Subscriber subscriber : subs) {
                    subscriber.offer(frame);
                }
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            if (assigned.isEmpty()) {
                return;
            }
            Map<TopicPartition, Long> ends = consumer.endOffsets(assigned);
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(assigned);
            for (TopicPartition tp : assigned) {
                long from = Math.max(starts.get(tp), ends.get(tp) - config.preloadEvents());
                consumer.seek(tp, from);
                Owned previous = owned.put(tp.partition(), new Owned(new RecentFrames(config.bufferEvents(),
                        config.bufferBytes()), from));
                if (previous != null) {
                    // assigned again without being revoked first: the old subscribers would wait on a partition
                    // object nobody feeds any more, so they resume on the new one
                    move(previous, null, "reassigned");
                }
            }
            ownersFetchedAt = 0;
            LOG.info("node {} now owns partitions {}", config.nodeId(), new java.util.TreeSet<>(owned.keySet()));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (!revoked.isEmpty()) {
                LOG.info("node {} hands over partitions {}", config.nodeId(), partitionsOf(revoked));
            }
            release(revoked, "rebalance");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            if (!lost.isEmpty()) {
                LOG.warn("node {} lost partitions {} (it was out of the group)", config.nodeId(), partitionsOf(lost));
            }
            release(lost, "rebalance");
        }

        private java.util.SortedSet<Integer> partitionsOf(Collection<TopicPartition> partitions) {
            java.util.SortedSet<Integer> numbers = new java.util.TreeSet<>();
            partitions.forEach(tp -> numbers.add(tp.partition()));
            return numbers;
        }

        private void release(Collection<TopicPartition> partitions, String cause) {
            for (TopicPartition tp : partitions) {
                Owned partition = owned.remove(tp.partition());
                if (partition != null) {
                    move(partition, null, cause);
                }
            }
            ownersFetchedAt = 0;
        }
    }

    private void move(Owned partition, String url, String cause) {
        List<Subscriber> subs = new ArrayList<>();
        synchronized (partition) {
            partition.byUser.values().forEach(subs::addAll);
            partition.byUser.clear();
        }
        for (Subscriber subscriber : subs) {
            metrics.moved(cause);
            subscriber.closeAfter(Frame.moved(url), Subscriber.MOVED, "moved");
        }
    }

    private void moveAll(String url, String cause) {
        for (Integer p : new ArrayList<>(owned.keySet())) {
            Owned partition = owned.remove(p);
            if (partition != null) {
                move(partition, url, cause);
            }
        }
    }

    /** Tells every client {@code moved} and leaves the group, so other nodes take over at once. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catchups.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
