package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.Meter;
import dev.agentevents.bench.fanout.BareWsServer;
import dev.agentevents.bench.fanout.FrameTemplate;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.fanout.Hs256Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The throughput benchmark's bare end-to-end path, doing the pipeline's transport work and none of its own: a bare
 * producer (the publisher's settings) → the bare exactly-once Streams hop ({@link BareStreamsHop#streams}: copies
 * each record) → a bare Vert.x server with a plain consumer pushing a pre-rendered frame of the same size as the
 * node's to each user's socket ({@link BareWsServer}) → the same WebSocket clients as the pipeline's
 * ({@link SocketClients}: parse every frame, latency from its {@code occurredAt}, here the record's timestamp).
 */
final class BareEndToEnd implements AutoCloseable {

    private final String in;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaStreams streams;
    private final Path stateDir;
    private final BareWsServer server;
    private final SocketClients clients;

    BareEndToEnd(EmbeddedStack stack, String prefix, String guarantee, Duration commit, int partitions, int threads,
                 List<String> users, AgentEvent typical, Meter meter) throws Exception {
        in = prefix + "bare-in";
        String out = prefix + "bare-out";
        try (Admin admin = stack.kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(in, partitions, (short) 1), new NewTopic(out, partitions, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        stateDir = Files.createTempDirectory("bench-bare-e2e");
        streams = BareStreamsHop.streams(stack, prefix + "bare-hop", in, out, guarantee, commit, threads, stateDir);
        streams.start();
        server = new BareWsServer(stack.bootstrapServers(), out, new FrameTemplate(typical));
        clients = new SocketClients(1);
        clients.connect(server.url(), users, user -> Hs256Tokens.issue(PipelineUnderTest.SECRET, user,
                Duration.ofHours(1)), meter);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(50); // no callback for "running"; the pipeline's router waits the same way
        }
    }

    /** Sends one pre-serialized event, created now (the record's timestamp is what the frame carries). */
    void send(byte[] key, byte[] value) {
        producer.send(new ProducerRecord<>(in, null, System.currentTimeMillis(), key, value));
    }

    @Override
    public void close() throws Exception {
        producer.close(Duration.ofSeconds(10));
        clients.close();
        server.close();
        streams.close(CloseOptions.timeout(Duration.ofSeconds(20))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        EmbeddedKafka.deleteRecursively(stateDir);
    }
}
