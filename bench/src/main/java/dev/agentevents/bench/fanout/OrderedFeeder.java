package dev.agentevents.bench.fanout;

import dev.agentevents.bench.Pacer;
import dev.agentevents.bench.pipeline.PipelineScenarios;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes an ordered topic for one side of the fanout benchmark (records from {@link OrderedLoad}, one producer with
 * the same settings for both sides): at a fixed rate, or as fast as that side delivers, keeping at most
 * {@link PipelineScenarios#MAX_IN_FLIGHT} records between what was sent and what the side says it wrote to sockets.
 */
final class OrderedFeeder implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final OrderedLoad load;
    private final LongSupplier delivered;
    private Thread feeder;

    /** Records of users {@code load-0 .. users-1} for {@code topic}; {@code delivered}: frames the side wrote. */
    OrderedFeeder(EmbeddedStack stack, String topic, AgentEvent template, int users, LongSupplier delivered) {
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer());
        this.load = OrderedLoad.viaRegistry(template, "load-", users, topic, stack.registryUrl());
        this.delivered = delivered;
    }

    /** Feeds {@code rate} records/s (0: as fast as the side delivers) spread over the first {@code users}. */
    void feed(double rate, int users) throws InterruptedException {
        stopFeeding();
        feeder = new Thread(() -> {
            Pacer pacer = new Pacer(rate);
            long sent = 0;
            long deliveredBefore = delivered.getAsLong();
            while (!Thread.currentThread().isInterrupted()) {
                if (rate <= 0 && sent - (delivered.getAsLong() - deliveredBefore) > PipelineScenarios.MAX_IN_FLIGHT) {
                    LockSupport.parkNanos(200_000);
                    continue;
                }
                pacer.await();
                producer.send(load.record(sent, users));
                sent++;
            }
        }, "fanout-feeder");
        feeder.start();
    }

    void stopFeeding() throws InterruptedException {
        if (feeder != null) {
            feeder.interrupt();
            feeder.join(5000);
            feeder = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopFeeding();
        producer.close(Duration.ofSeconds(10));
    }
}
