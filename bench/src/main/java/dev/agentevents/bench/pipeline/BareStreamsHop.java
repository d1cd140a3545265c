package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.Meter;

import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The baseline: a bare Kafka producer → a map-only Kafka Streams app (same guarantee, commit interval, producer
 * linger and partitions as the router) → a {@code read_committed} consumer. Latency runs from the record's creation
 * time (set at send) to its arrival at the consumer, on this JVM's clock. Without a meter nothing here reads the
 * output topic ({@link #out()}): another reader does, as {@link BareEndToEnd}'s WebSocket server.
 */
final class BareStreamsHop implements AutoCloseable {

    private final String in;
    private final String out;
    private final KafkaStreams streams;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread reader;
    private volatile boolean running = true;
    private final Path stateDir;

    BareStreamsHop(EmbeddedStack stack, String prefix, String guarantee, Duration commit, int partitions, int threads,
                   Meter meter)
            throws Exception {
        this.in = prefix + "bare-in";
        this.out = prefix + "bare-out";
        try (Admin admin = stack.kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(in, partitions, (short) 1), new NewTopic(out, partitions, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        stateDir = Files.createTempDirectory("bench-bare");
        streams = streams(stack, prefix + "bare-hop", in, out, guarantee, commit, threads, stateDir);
        streams.start();
        producer = producer(stack);
        reader = meter == null ? null : new Thread(() -> read(stack, prefix, meter), "bare-hop-reader");
        if (reader != null) {
            reader.start();
        }
    }

    /**
     * A producer of pre-serialized records with the publisher's settings (acks all, idempotent, lz4, linger 5 ms),
     * for every bare path and for feeding the pipeline the same way.
     */
    static KafkaProducer<byte[], byte[]> producer(EmbeddedStack stack) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    private void read(EmbeddedStack stack, String prefix, Meter meter) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, prefix + "bare-reader",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            consumer.subscribe(List.of(out));
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    meter.record((System.currentTimeMillis() - record.timestamp()) * 1000);
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** The topic the hop writes. */
    String out() {
        return out;
    }

    /**
     * The bare hop's Kafka Streams app: {@code in} → identity → {@code out}, with the router's guarantee, commit
     * interval, threads, producer linger and compression and offset reset; not started.
     */
    static KafkaStreams streams(EmbeddedStack stack, String applicationId, String in, String out, String guarantee,
                                Duration commit, int threads, Path stateDir) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(in, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())).mapValues(v -> v)
                .to(out, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commit.toMillis());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return new KafkaStreams(builder.build(), props);
    }

    void awaitRunning() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Sends one pre-serialized event, created now. */
    void send(byte[] key, byte[] value) {
        producer.send(new ProducerRecord<>(in, null, System.currentTimeMillis(), key, value));
    }

    @Override
    public void close() throws InterruptedException {
        producer.close(Duration.ofSeconds(10));
        running = false;
        if (reader != null) {
            reader.join(10_000);
        }
        streams.close(CloseOptions.timeout(Duration.ofSeconds(20))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        EmbeddedKafka.deleteRecursively(stateDir);
    }
}
