package dev.agentevents.fanout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The partitions this node owns and, per partition, its recent records (resumes from memory), the position it has
 * been read up to, and the subscribers by user. The feed thread adds records ({@link #dispatch}) and changes
 * ownership ({@link #own}, {@link #release}); connections register and unregister from their event loops. A
 * released partition's subscribers are told {@code moved}.
 */
final class SubscriberRegistry {

    /** What a registering subscriber needs to be sent first. */
    sealed interface Start permits Live, FromKafka, NotOwned {
    }

    /** Live from the current position (any recent frames it missed already queued). */
    record Live(FanoutMetrics.ResumeSource source) implements Start {
    }

    /**
     * Read {@code fromOffset} until {@code toOffset} (exclusive) back from Kafka, then the {@code tail} memory held
     * from {@code toOffset} on, then release the frames held meanwhile.
     */
    record FromKafka(long fromOffset, long toOffset, List<Frame> tail) implements Start {
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
    private final FrameReader reader;
    private final Map<Integer, Owned> owned = new ConcurrentHashMap<>();

    SubscriberRegistry(FanoutConfig config, FanoutMetrics metrics, FrameReader reader) {
        this.config = config;
        this.metrics = metrics;
        this.reader = reader;
    }

    boolean owns(int partition) {
        return owned.containsKey(partition);
    }

    Set<Integer> ownedPartitions() {
        return Set.copyOf(owned.keySet());
    }

    /** Takes {@code partition} on, to be read from {@code fromOffset}; subscribers of an older copy resume anew. */
    void own(int partition, long fromOffset) {
        Owned previous = owned.put(partition, new Owned(new RecentFrames(partition, config.bufferEvents(),
                config.bufferBytes(), reader), fromOffset));
        if (previous != null) {
            // assigned again without being revoked first: the old subscribers would wait on a partition object
            // nobody feeds any more, so they resume on the new one
            move(previous, null, FanoutMetrics.MoveCause.REASSIGNED);
        }
    }

    /** Gives {@code partition} up: its subscribers are told to move ({@code url} null: ask {@code /route}). */
    void release(int partition, String url, FanoutMetrics.MoveCause cause) {
        Owned partitionState = owned.remove(partition);
        if (partitionState != null) {
            move(partitionState, url, cause);
        }
    }

    /** Gives every partition up (the node stops). */
    void releaseAll(String url, FanoutMetrics.MoveCause cause) {
        for (Integer partition : new ArrayList<>(owned.keySet())) {
            release(partition, url, cause);
        }
    }

    /**
     * A record read from Kafka at its position: remembered, and offered to the connections of the user its key
     * names. Its frame is made only when that user has a connection here; otherwise memory keeps its bytes.
     */
    void dispatch(ConsumerRecord<byte[], byte[]> record) {
        Owned partition = owned.get(record.partition());
        if (partition == null) {
            return;
        }
        String userId = FrameReader.userOf(record.key());
        synchronized (partition) {
            partition.nextOffset = record.offset() + 1;
            if (userId == null) {
                reader.unkeyed(record.partition(), record.offset());
                return;
            }
            List<Subscriber> subs = partition.byUser.get(userId);
            Frame frame = subs == null ? null : reader.read(record.partition(), record.offset(), userId,
                    record.value());
            partition.recent.add(record.offset(), userId, record.value(), frame);
            if (subs != null) {
                for (Subscriber subscriber : subs) {
                    subscriber.offer(frame);
                }
            }
        }
    }

    /** The position a connection without one starts after: what this node has read of it; null when not owned. */
    Long livePosition(int partition) {
        Owned state = owned.get(partition);
        if (state == null) {
            return null;
        }
        synchronized (state) {
            return state.nextOffset - 1;
        }
    }

    /**
     * Registers {@code subscriber}, queueing what it missed after {@code resumeOffset} (null: nothing, live from
     * now) when memory still has it; when it does not, the subscriber is put on hold and the caller must read the
     * returned range back from Kafka.
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
                return new Live(FanoutMetrics.ResumeSource.CURRENT);
            }
            long first = partition.recent.firstOffset();
            if (first >= 0 && first <= resumeOffset + 1) {
                subscriber.startAfter(resumeOffset);
                subscriber.offerCatchup(partition.recent.after(resumeOffset, subscriber.userId));
                return new Live(FanoutMetrics.ResumeSource.MEMORY);
            }
            subscriber.startAfter(resumeOffset);
            subscriber.hold();
            long end = first >= 0 ? first : next;
            return new FromKafka(resumeOffset + 1, end, partition.recent.after(end - 1, subscriber.userId));
        }
    }

    void unregister(Subscriber subscriber) {
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

    private void move(Owned partition, String url, FanoutMetrics.MoveCause cause) {
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
}
