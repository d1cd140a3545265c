package dev.agentevents.fanout;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves resume positions memory no longer holds: reads the range back from {@code agent-events-ordered} and sends
 * the user's frames as the subscriber's queue makes room; then the frames memory held and what arrived live
 * meanwhile. Bounded so that no client can starve the others: {@code FANOUT_CATCHUP_THREADS} readers, each with a
 * consumer of its own kept for every read, {@code FANOUT_CATCHUP_QUEUE} reads waiting at most, and
 * {@code FANOUT_CATCHUP_PER_USER} at once per user (beyond either: 4008, resume again shortly); every wait inside a
 * read ends by {@code FANOUT_CATCHUP_TIMEOUT_MS}. Other users' records are skipped by key, never decoded; an
 * undecodable record of the user becomes a gap frame ({@code UNDECODABLE}) and the read goes on. Positions Kafka no
 * longer has, or more than {@code FANOUT_CATCHUP_MAX_RECORDS} behind, get a reset frame; a read that fails (Kafka
 * unreachable) closes with 4008 so the client resumes from the same position later.
 */
final class CatchUpReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CatchUpReader.class);

    private final FanoutConfig config;
    private final FanoutMetrics metrics;
    private final FrameReader frames;
    private final String clientId;
    private final ThreadPoolExecutor readers;
    private final ThreadLocal<KafkaConsumer<byte[], byte[]>> consumers = new ThreadLocal<>();
    private final List<KafkaConsumer<byte[], byte[]>> allConsumers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, Integer> perUser = new ConcurrentHashMap<>();
    private final Timer duration;
    private final Counter recordsRead;

    CatchUpReader(FanoutConfig config, FanoutMetrics metrics, FrameReader frames, String clientId) {
        this.config = config;
        this.metrics = metrics;
        this.frames = frames;
        this.clientId = clientId;
        FanoutConfig.CatchUp limits = config.catchUp();
        this.readers = new ThreadPoolExecutor(limits.threads(), limits.threads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(limits.queue()), r -> {
                    Thread thread = new Thread(r, "fanout-catchup");
                    thread.setDaemon(true);
                    return thread;
                });
        Gauge.builder("fanout.catchup.queue", readers, r -> r.getQueue().size())
                .description("catch-up reads waiting for a reader").register(metrics.registry());
        this.duration = Timer.builder("fanout.catchup.duration").description("time one catch-up read took")
                .register(metrics.registry());
        this.recordsRead = Counter.builder("fanout.catchup.records.read")
                .description("records of the ordered topic read back for catch-ups").register(metrics.registry());
    }

    /** Reads {@code range} back for {@code subscriber}, which {@link SubscriberRegistry#register} put on hold. */
    void catchUp(Subscriber subscriber, SubscriberRegistry.FromKafka range) {
        if (!claim(subscriber.userId)) {
            refuse(subscriber, "another resume of yours is being read back; resume again shortly");
            return;
        }
        try {
            readers.execute(() -> {
                long start = System.nanoTime();
                try {
                    FanoutMetrics.ResumeSource outcome = readBack(subscriber, range);
                    subscriber.offerCatchup(range.tail());
                    metrics.resumed(outcome);
                    subscriber.release();
                } finally {
                    unclaim(subscriber.userId);
                    duration.record(Duration.ofNanos(System.nanoTime() - start));
                }
            });
        } catch (RejectedExecutionException e) {
            unclaim(subscriber.userId);
            refuse(subscriber, "too many resumes are being read back now; resume again shortly");
        }
    }

    private void refuse(Subscriber subscriber, String reason) {
        metrics.resumed(FanoutMetrics.ResumeSource.REFUSED);
        subscriber.closeAfter(null, Subscriber.TOO_SLOW, reason);
    }

    private boolean claim(String userId) {
        boolean[] granted = {false};
        perUser.compute(userId, (u, count) -> {
            int now = count == null ? 0 : count;
            if (now >= config.catchUp().perUser()) {
                return count;
            }
            granted[0] = true;
            return now + 1;
        });
        return granted[0];
    }

    private void unclaim(String userId) {
        perUser.computeIfPresent(userId, (u, count) -> count <= 1 ? null : count - 1);
    }

    /** Reads waiting for a reader now. */
    int queued() {
        return readers.getQueue().size();
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        KafkaConsumer<byte[], byte[]> consumer = consumers.get();
        if (consumer == null) {
            consumer = new KafkaConsumer<>(PartitionFeed.consumerConfig(config, clientId + "|catchup-"
                    + Thread.currentThread().getId(), null), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumers.set(consumer);
            allConsumers.add(consumer);
        }
        return consumer;
    }

    private FanoutMetrics.ResumeSource readBack(Subscriber subscriber, SubscriberRegistry.FromKafka range) {
        TopicPartition tp = new TopicPartition(config.topics().ordered(), subscriber.partition);
        byte[] user = subscriber.userId.getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + config.catchUp().timeout().toNanos();
        try {
            KafkaConsumer<byte[], byte[]> reader = consumer();
            reader.assign(List.of(tp));
            long start = reader.beginningOffsets(List.of(tp)).get(tp);
            if (range.fromOffset() < start || range.toOffset() - range.fromOffset() > config.catchUp().maxRecords()) {
                String reason = range.fromOffset() < start
                        ? "position " + subscriber.partition + ":" + (range.fromOffset() - 1)
                                + " is older than anything Kafka still keeps (oldest: " + start + ")"
                        : "position " + subscriber.partition + ":" + (range.fromOffset() - 1) + " is more than "
                                + config.catchUp().maxRecords() + " records behind";
                subscriber.control(Frame.reset(reason));
                subscriber.startAfter(range.toOffset() - 1);
                return FanoutMetrics.ResumeSource.RESET;
            }
            reader.seek(tp, range.fromOffset());
            while (reader.position(tp) < range.toOffset() && !subscriber.isClosed()) {
                overdue(deadline, tp);
                List<Frame> batch = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> record : reader.poll(Duration.ofMillis(200))) {
                    recordsRead.increment();
                    if (record.offset() >= range.toOffset()) {
                        break;
                    }
                    if (record.key() != null && Arrays.equals(record.key(), user)) {
                        batch.add(frames.read(record.partition(), record.offset(), subscriber.userId,
                                record.value()));
                    }
                }
                subscriber.offerCatchup(batch);
                while (!subscriber.hasRoom()) {
                    overdue(deadline, tp);
                    Thread.sleep(5);
                }
            }
            return FanoutMetrics.ResumeSource.KAFKA;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FanoutMetrics.ResumeSource.INTERRUPTED;
        } catch (RuntimeException e) {
            // transient (brokers unreachable, a slow read, a client that stopped reading): the position is still
            // good, so no reset; the client resumes from it again, as after any 4008
            LOG.warn("catch-up for user {} failed: {}", subscriber.userId, e.toString());
            subscriber.closeNow(Subscriber.TOO_SLOW, "could not read your missed events back now; resume "
                    + "from the same position");
            return FanoutMetrics.ResumeSource.FAILED;
        }
    }

    private void overdue(long deadline, TopicPartition tp) {
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("catch-up of " + tp + " did not finish within FANOUT_CATCHUP_TIMEOUT_MS "
                    + config.catchUp().timeout().toMillis());
        }
    }

    @Override
    public void close() {
        readers.shutdownNow();
        try {
            readers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (KafkaConsumer<byte[], byte[]> consumer : allConsumers) {
            try {
                consumer.close(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                LOG.debug("catch-up consumer did not close cleanly: {}", e.toString());
            }
        }
    }
}
