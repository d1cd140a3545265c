package dev.agentevents.fanout;

import dev.agentevents.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves resume positions memory no longer holds: reads the range back from {@code agent-events-ordered}, in the
 * background, sending the user's frames as the subscriber's queue makes room; then the frames memory held and what
 * arrived live meanwhile. Positions Kafka no longer has, or a range longer than {@code FANOUT_CATCHUP_MAX_RECORDS},
 * get a reset frame; a read that fails (Kafka unreachable) closes with 4008 so the client resumes from the same
 * position later.
 */
final class CatchUpReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CatchUpReader.class);

    private final FanoutConfig config;
    private final FanoutMetrics metrics;
    private final AvroDeserializer<GenericRecord> decoder;
    private final String clientId;
    private final ExecutorService readers = Executors.newFixedThreadPool(2, r -> {
        Thread thread = new Thread(r, "fanout-catchup");
        thread.setDaemon(true);
        return thread;
    });

    CatchUpReader(FanoutConfig config, FanoutMetrics metrics, AvroDeserializer<GenericRecord> decoder,
                  String clientId) {
        this.config = config;
        this.metrics = metrics;
        this.decoder = decoder;
        this.clientId = clientId;
    }

    /** Reads {@code range} back for {@code subscriber}, which {@link SubscriberRegistry#register} put on hold. */
    void catchUp(Subscriber subscriber, SubscriberRegistry.FromKafka range) {
        readers.execute(() -> {
            FanoutMetrics.ResumeSource outcome = readBack(subscriber, range);
            subscriber.offerCatchup(range.tail());
            metrics.resumed(outcome);
            subscriber.release();
        });
    }

    private FanoutMetrics.ResumeSource readBack(Subscriber subscriber, SubscriberRegistry.FromKafka range) {
        TopicPartition tp = new TopicPartition(config.topics().ordered(), subscriber.partition);
        byte[] user = subscriber.userId.getBytes(StandardCharsets.UTF_8);
        try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(PartitionFeed.consumerConfig(config,
                clientId + "|catchup", null), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
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
                return FanoutMetrics.ResumeSource.RESET;
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
                    if (record.key() != null && Arrays.equals(record.key(), user)) {
                        batch.add(Frame.of(record.partition(), record.offset(),
                                decoder.deserialize(record.topic(), record.value())));
                    }
                }
                subscriber.offerCatchup(batch);
                while (!subscriber.hasRoom()) {
                    Thread.sleep(5);
                }
            }
            return FanoutMetrics.ResumeSource.KAFKA;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FanoutMetrics.ResumeSource.INTERRUPTED;
        } catch (RuntimeException e) {
            // transient (brokers unreachable, a slow read): the position is still good, so no reset; the client
            // resumes from it again, as after any 4008
            LOG.warn("catch-up for user {} failed: {}", subscriber.userId, e.toString());
            subscriber.closeAfter(null, Subscriber.TOO_SLOW, "could not read your missed events back now; resume "
                    + "from the same position");
            return FanoutMetrics.ResumeSource.FAILED;
        }
    }

    @Override
    public void close() {
        readers.shutdownNow();
    }
}
