package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Catch-up that cannot be abused, on the real broker: a client that stops reading holds a reader only until
 * {@code FANOUT_CATCHUP_TIMEOUT_MS}, resumes beyond the queue are refused at once (4008) instead of piling up, and an
 * undecodable record of the user becomes a gap frame instead of a 4008 that would be retried for ever.
 */
class CatchUpReaderTest {

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();
    private FanoutFixture fixture;
    private CatchUpReader reader;
    private FanoutMetrics metrics;

    @BeforeEach
    void start() throws Exception {
        fixture = new FanoutFixture();
        Map<String, String> env = fixture.env("catch-up");
        env.putAll(Map.of("FANOUT_CATCHUP_THREADS", "1", "FANOUT_CATCHUP_QUEUE", "1",
                "FANOUT_CATCHUP_TIMEOUT_MS", "2000"));
        FanoutConfig config = FanoutConfig.fromEnv(env);
        metrics = new FanoutMetrics(new SimpleMeterRegistry());
        reader = new CatchUpReader(config, metrics, new FrameReader(config.topics().ordered(),
                AvroDeserializer.generic(new SchemaRegistryClient(fixture.stack.registryUrl())), metrics),
                "catch-up-test");
    }

    @AfterEach
    void stop() {
        reader.close();
        fixture.close();
        vertx.close();
    }

    /** A connection that records what is sent and how it closed; one that never drains when {@code stuck}. */
    private static final class Connection {
        final List<Frame> sent = new CopyOnWriteArrayList<>();
        final CompletableFuture<Short> closed = new CompletableFuture<>();
        final Subscriber subscriber;

        Connection(String user, int partition, boolean stuck, Context context, FanoutMetrics metrics) {
            WriteStream<?> stream = (WriteStream<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {WriteStream.class}, (proxy, method, args) ->
                            method.getName().equals("writeQueueFull") ? stuck : proxy);
            subscriber = new Subscriber(user, partition, null, null, context, new Subscriber.Transport(stream,
                    sent::add, () -> !closed.isDone(), (code, reason) -> closed.complete(code), true), metrics, 30,
                    1 << 20);
        }

        List<String> types() {
            return sent.stream().map(f -> f.text().replaceAll(".*?\"type\":\"(\\w+)\".*", "$1")).toList();
        }
    }

    private SubscriberRegistry.FromKafka range(Connection connection, long from, long to) {
        connection.subscriber.startAfter(from - 1);
        connection.subscriber.hold();
        return new SubscriberRegistry.FromKafka(from, to, List.of());
    }

    @Test
    void shouldFreeAReaderFromAClientThatStoppedReadingAndRefuseResumesBeyondTheQueue() throws Exception {
        List<String> users = FanoutFixture.usersInOnePartition(fixtureNode(), 3);
        long first = -1;
        long last = -1;
        for (int run = 0; run < 4; run++) {
            for (String user : users) {
                for (var event : FanoutFixture.run(user, "run-" + run)) {
                    RecordMetadata written = fixture.write(event);
                    first = first < 0 ? written.offset() : first;
                    last = written.offset();
                }
            }
        }
        int partition = fixtureNode().partitionOf(users.get(0));
        Connection stuck = new Connection(users.get(0), partition, true, context, metrics);
        Connection patient = new Connection(users.get(1), partition, false, context, metrics);
        Connection crowded = new Connection(users.get(2), partition, false, context, metrics);

        long start = System.nanoTime();
        reader.catchUp(stuck.subscriber, range(stuck, first, last + 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> reader.queued() == 0 && !stuck.subscriber.hasRoom());
        reader.catchUp(patient.subscriber, range(patient, first, last + 1));
        reader.catchUp(crowded.subscriber, range(crowded, first, last + 1));

        assertThat(crowded.closed.get(5, TimeUnit.SECONDS)).as("beyond the queue: resume later").isEqualTo((short) 4008);
        assertThat(stuck.closed.get(10, TimeUnit.SECONDS)).as("the stuck client, at the deadline").isEqualTo((short) 4008);
        await().atMost(Duration.ofSeconds(10)).until(() -> patient.types().stream()
                .filter("event"::equals).count() == 20);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(patient.closed).isNotDone();
    }

    @Test
    void shouldTurnAnUndecodableRecordOfTheUserIntoAGapAndGoOn() throws Exception {
        String user = "broken-user";
        var events = FanoutFixture.run(user, "run-b");
        long first = fixture.write(events.get(0)).offset();
        try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                fixture.stack.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
            raw.send(new ProducerRecord<>(fixture.topics.ordered(), user, new byte[] {0, 0, 0, 0, 1, 42}))
                    .get(10, TimeUnit.SECONDS);
        }
        long last = fixture.write(events.get(1)).offset();
        Connection connection = new Connection(user, fixtureNode().partitionOf(user), false, context, metrics);

        reader.catchUp(connection.subscriber, range(connection, first, last + 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> connection.sent.size() == 3);

        assertThat(connection.types()).containsExactly("event", "gap", "event");
        assertThat(connection.sent.get(1).text()).contains("\"reason\":\"UNDECODABLE\"")
                .contains("\"pos\":\"" + connection.sent.get(0).partition() + ":");
        assertThat(connection.closed).isNotDone();
    }

    private FanoutNode node;

    /** A node only to know the topic's partitioning. */
    private FanoutNode fixtureNode() throws Exception {
        if (node == null) {
            node = fixture.startSoleNode(Map.of());
        }
        return node;
    }
}
