package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.EventJson;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Records are routed by key and read only for users connected here, or when a resume asks for them from memory;
 * a record is never shown to anyone but the user its key names, even when its event names another.
 */
class SubscriberRegistryTest {

    private static final String TOPIC = "agent-events-ordered";
    private static final int PARTITION = 3;

    private final Vertx vertx = Vertx.vertx();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final FanoutMetrics metrics = new FanoutMetrics(meters);
    private final AtomicInteger schemaLookups = new AtomicInteger();
    private HttpServer schemas;
    private SubscriberRegistry registry;

    /** A schema registry that knows id 1, the ordered event's schema (the protocol the node's client speaks). */
    @BeforeEach
    void start() throws Exception {
        schemas = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        schemas.createContext("/schemas/ids/1", exchange -> {
            schemaLookups.incrementAndGet();
            byte[] body = EventJson.MAPPER.writeValueAsBytes(Map.of("schema", OrderedEvent.getClassSchema()
                    .toString()));
            exchange.getResponseHeaders().add("Content-Type", SchemaRegistryClient.CONTENT_TYPE);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        schemas.start();
        String url = "http://127.0.0.1:" + schemas.getAddress().getPort();
        FanoutConfig config = FanoutConfig.fromEnv(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9",
                "SCHEMA_REGISTRY_URL", url, "FANOUT_JWT_HS256_SECRET", "s".repeat(32)));
        registry = new SubscriberRegistry(config, metrics, new FrameReader(TOPIC,
                AvroDeserializer.generic(new SchemaRegistryClient(url)), metrics));
        registry.own(PARTITION, 0);
    }

    @AfterEach
    void stop() {
        schemas.stop(0);
        vertx.close();
    }

    @Test
    void shouldReadOnlyTheRecordsOfConnectedUsersAndTheRestWhenAResumeAsks() throws Exception {
        List<Frame> alice = connect("alice", null);

        registry.dispatch(record(0, "alice", event("alice", 1)));
        registry.dispatch(record(1, "bob", new byte[] {0x7b, 0x7d}));
        registry.dispatch(record(2, "alice", new byte[] {0x7b}));

        assertThat(alice).extracting(Frame::offset).containsExactly(0L, 2L);
        assertThat(alice.get(0).text()).contains("\"type\":\"event\"", "\"pos\":\"3:0\"");
        assertThat(alice.get(1).text()).contains("\"type\":\"gap\"", "\"reason\":\"UNDECODABLE\"");
        assertThat(undecodable()).as("bob's record was not read: nobody of his is connected").isEqualTo(1);

        List<Frame> bob = connect("bob", -1L);

        assertThat(bob).extracting(Frame::offset).containsExactly(1L);
        assertThat(bob.get(0).text()).contains("\"reason\":\"UNDECODABLE\"");
        assertThat(undecodable()).as("read once bob resumed from memory").isEqualTo(2);
        assertThat(connect("bob", -1L)).as("a second resume gets the frame read the first time")
                .extracting(Frame::offset).containsExactly(1L);
        assertThat(undecodable()).isEqualTo(2);
    }

    @Test
    void shouldServeAResumeFromRecordsKeptUnreadAsTheSameFramesALiveConnectionGets() throws Exception {
        List<Frame> live = connect("carol", null);
        registry.dispatch(record(0, "dave", event("dave", 1)));
        registry.dispatch(record(1, "carol", event("carol", 1)));
        registry.dispatch(record(2, "dave", event("dave", 2)));
        assertThat(schemaLookups).as("no dave record read yet, the schema fetched once for carol's").hasValue(1);

        List<Frame> dave = connect("dave", -1L);

        assertThat(live).extracting(Frame::offset).containsExactly(1L);
        assertThat(dave).extracting(Frame::offset).containsExactly(0L, 2L);
        assertThat(dave.get(1).text()).contains("\"pos\":\"3:2\"", "\"userId\":\"dave\"", "\"seq\":2");
        assertThat(undecodable()).isZero();
    }

    @Test
    void shouldShowARecordOnlyToTheUserItsKeyNamesEvenWhenItsEventNamesAnother() throws Exception {
        List<Frame> alice = connect("alice", null);
        List<Frame> mallory = connect("mallory", null);

        registry.dispatch(record(0, "alice", event("mallory", 1)));
        registry.dispatch(record(1, "mallory", event("mallory", 2)));

        assertThat(alice).hasSize(1);
        assertThat(alice.get(0).text()).contains("\"type\":\"gap\"", "\"reason\":\"UNDECODABLE\"")
                .doesNotContain("mallory");
        assertThat(mallory).as("mallory gets her own record, not the one keyed by alice")
                .extracting(Frame::offset).containsExactly(1L);
        assertThat(undecodable()).isEqualTo(1);
    }

    @Test
    void shouldCountARecordWithNoKeyAndGoOnPastIt() throws Exception {
        List<Frame> alice = connect("alice", null);

        registry.dispatch(record(0, null, event("alice", 1)));
        registry.dispatch(record(1, "alice", event("alice", 2)));

        assertThat(alice).extracting(Frame::offset).containsExactly(1L);
        assertThat(undecodable()).isEqualTo(1);
        assertThat(registry.livePosition(PARTITION)).isEqualTo(1L);
    }

    /**
     * A connection of {@code user} resuming after {@code resume} (null: live), and what it is sent; what it resumes
     * from memory its event loop writes, so this returns once that loop has run what registering gave it.
     */
    private List<Frame> connect(String user, Long resume) throws Exception {
        List<Frame> sent = new CopyOnWriteArrayList<>();
        WriteStream<?> stream = (WriteStream<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {WriteStream.class}, (proxy, method, args) ->
                        method.getName().equals("writeQueueFull") ? false : proxy);
        Context context = vertx.getOrCreateContext();
        Subscriber subscriber = new Subscriber(user, PARTITION, null, null, context,
                new Subscriber.Transport(stream, sent::add, () -> true, (code, reason) -> { }, true), metrics, 100,
                1 << 20);
        assertThat(registry.register(subscriber, resume)).isInstanceOf(SubscriberRegistry.Live.class);
        CompletableFuture<Void> ran = new CompletableFuture<>();
        context.runOnContext(v -> ran.complete(null));
        ran.get(10, TimeUnit.SECONDS);
        return sent;
    }

    private double undecodable() {
        return meters.get("fanout.frames.dropped").tag("reason", "undecodable").counter().count();
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset, String user, byte[] value) {
        return new ConsumerRecord<>(TOPIC, PARTITION, offset, user == null ? null
                : user.getBytes(StandardCharsets.UTF_8), value);
    }

    /** An ordered event of {@code user} in the Confluent wire format, schema id 1. */
    private static byte[] event(String user, long seq) {
        AgentEvent event = AgentEvent.newBuilder().setEventId("e-" + user + "-" + seq).setType("agent_thinking")
                .setUserId(user).setThreadId("t-1").setRunId("r-1").setSeq(seq).setOccurredAt(Instant.now())
                .setAgent(AgentInfo.newBuilder().setId("a").setName("Agent").setVersion("1").build())
                .setThinking(Thinking.newBuilder().setText("thinking").build())
                .build();
        OrderedEvent ordered = OrderedRecords.event(HashChain.GENESIS, event, Instant.now(), null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 0, 0, 0, 1});
        out.writeBytes(HashChain.avroBinary(ordered));
        return out.toByteArray();
    }
}
