package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Hostile producers against the real router on the real broker (the TopologyTestDriver does not carry Kafka's own
 * size checks): for each kind, an innocent user on the same input partition still gets a whole run within seconds,
 * the hostile record is in the dead-letter topic with its reason and its original size and hash, and no stream thread
 * is replaced.
 */
@Tag("slow")
class HostileProducerTest {

    private static final int PARTITIONS = 4;
    private static final Duration INNOCENT_WITHIN = Duration.ofSeconds(15);

    private final EmbeddedStack stack = EmbeddedStack.shared();
    private final Random random = new Random(13);
    private RouterApp router;
    private Topics topics;
    private AvroSerializer<AgentEvent> avro;
    private KafkaConsumer<String, OrderedEvent> ordered;
    private KafkaConsumer<byte[], byte[]> deadLetters;
    private final Map<String, List<OrderedEvent>> delivered = new HashMap<>();
    private final List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
    private int innocents;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close(Duration.ofSeconds(20));
        }
        if (ordered != null) {
            ordered.close();
            deadLetters.close();
        }
    }

    private void startRouter(String... settings) throws Exception {
        String prefix = "producer-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topics = stack.topicsWithPrefix(prefix, PARTITIONS);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", prefix);
        env.put("ROUTER_APPLICATION_ID", prefix + "router");
        env.put("ROUTER_STATE_DIR", Files.createTempDirectory("hostile-producer").toString());
        env.put("ROUTER_HTTP_PORT", "0");
        for (int i = 0; i < settings.length; i += 2) {
            env.put(settings[i], settings[i + 1]);
        }
        router = RouterApp.start(RouterConfig.fromEnv(env));
        SchemaRegistryClient registry = new SchemaRegistryClient(stack.registryUrl());
        avro = new AvroSerializer<>(registry, Map.of(), false);
        ordered = new KafkaConsumer<>(consumerConfig(), new StringDeserializer(),
                AvroDeserializer.specific(registry, OrderedEvent.class));
        ordered.subscribe(List.of(topics.ordered()));
        deadLetters = new KafkaConsumer<>(consumerConfig(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        deadLetters.subscribe(List.of(topics.deadLetters()));
    }

    private Map<String, Object> consumerConfig() {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "hostile-producer-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    }

    private KafkaProducer<byte[], byte[]> producer(String compression, int maxRequestSize) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.COMPRESSION_TYPE_CONFIG, compression,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestSize, ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static int partitionOf(byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % PARTITIONS;
    }

    private ProducerRecord<byte[], byte[]> record(String key, AgentEvent event) {
        return new ProducerRecord<>(topics.events(), key.getBytes(StandardCharsets.UTF_8),
                avro.serialize(topics.events(), event));
    }

    /** Publishes a whole run of a fresh user on {@code partition} and waits until the router delivered all of it. */
    private Duration innocentRunOn(int partition) {
        String user;
        do {
            user = "innocent-" + innocents++;
        } while (partitionOf(user.getBytes(StandardCharsets.UTF_8)) != partition);
        TestRun run = new TestRun(user, "run-" + user);
        List<AgentEvent> events = run.complete();
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = producer("lz4", 1024 * 1024)) {
            events.forEach(e -> producer.send(record(run.userId, e)));
        }
        await().atMost(INNOCENT_WITHIN).pollInSameThread().pollInterval(Duration.ofMillis(10))
                .until(() -> readOrdered().getOrDefault(run.runId, List.of()).size() >= events.size());
        assertThat(delivered.get(run.runId)).extracting(OrderedEvent::getEvent).containsExactlyElementsOf(events);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private Map<String, List<OrderedEvent>> readOrdered() {
        for (ConsumerRecord<String, OrderedEvent> record : ordered.poll(Duration.ofMillis(100))) {
            delivered.computeIfAbsent(record.value().getRunId(), k -> new ArrayList<>()).add(record.value());
        }
        return delivered;
    }

    /** Waits for the dead letters of {@code sent} (matched by the original value's hash) and returns them. */
    private List<ConsumerRecord<byte[], byte[]>> awaitDeadLetters(Collection<ProducerRecord<byte[], byte[]>> sent) {
        List<String> hashes = sent.stream().map(r -> DeadLetters.sha256(r.value())).toList();
        await().atMost(Duration.ofSeconds(30)).pollInSameThread().until(() -> {
            deadLetters.poll(Duration.ofMillis(100)).forEach(dead::add);
            return hashes.stream().allMatch(h -> dead.stream().anyMatch(d -> h.equals(header(d,
                    DeadLetterHeaders.VALUE_SHA256))));
        });
        return hashes.stream().map(h -> dead.stream().filter(d -> h.equals(header(d, DeadLetterHeaders.VALUE_SHA256)))
                .findFirst().orElseThrow()).toList();
    }

    /** Text lz4 cannot squeeze much: the broker's limit applies to compressed batches. */
    private String randomText(int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) ('!' + random.nextInt(90)));
        }
        return text.toString();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return DeadLetterHeaders.text(record.headers(), name).orElse(null);
    }

    /** Sends {@code hostile}, then an innocent run on the same partition; checks both and returns the dead letters. */
    private List<ConsumerRecord<byte[], byte[]>> attack(KafkaProducer<byte[], byte[]> producer, String reason,
                                                        List<ProducerRecord<byte[], byte[]>> hostile) {
        hostile.forEach(producer::send);
        producer.flush();
        Duration innocent = innocentRunOn(partitionOf(hostile.get(0).key()));
        assertThat(innocent).as("innocent run beside %s", reason).isLessThan(INNOCENT_WITHIN);
        List<ConsumerRecord<byte[], byte[]>> letters = awaitDeadLetters(hostile);
        for (int i = 0; i < hostile.size(); i++) {
            ConsumerRecord<byte[], byte[]> letter = letters.get(i);
            ProducerRecord<byte[], byte[]> sent = hostile.get(i);
            assertThat(header(letter, DeadLetterHeaders.CODE)).as(reason).isEqualTo(reason);
            assertThat(header(letter, DeadLetterHeaders.VALUE_SIZE)).isEqualTo(Integer.toString(sent.value().length));
            assertThat(header(letter, DeadLetterHeaders.KEY_SIZE)).isEqualTo(Integer.toString(sent.key().length));
            assertThat(header(letter, DeadLetterHeaders.KEY_SHA256)).isEqualTo(DeadLetters.sha256(sent.key()));
            assertThat(letter.serializedKeySize() + letter.serializedValueSize())
                    .isLessThanOrEqualTo(router.config().limits().maxDeadLetterBytes());
        }
        return letters;
    }

    @Test
    void shouldKeepDeliveringInnocentRunsWhileEveryKindOfHostileRecordGoesToTheDeadLetters() throws Exception {
        startRouter();
        innocentRunOn(0);
        TestRun hostile = new TestRun("mallory", "run-mallory");

        try (KafkaProducer<byte[], byte[]> gzip = producer("gzip", 16 * 1024 * 1024)) {
            // 5 MB of text that gzip squeezes far under the broker's 1 MiB
            AgentEvent bomb = hostile.base(1, "agent_thinking").setThinking(new Thinking("a".repeat(5_000_000)))
                    .build();
            List<ConsumerRecord<byte[], byte[]>> letters = attack(gzip, "OVERSIZED",
                    List.of(record(hostile.userId, bomb)));
            assertThat(header(letters.get(0), DeadLetterHeaders.TRUNCATED)).isEqualTo("true");

            // a 600 KB key that is not the event's userId
            attack(gzip, "KEY_TOO_LONG", List.of(new ProducerRecord<>(topics.events(),
                    "k".repeat(600_000).getBytes(StandardCharsets.UTF_8),
                    avro.serialize(topics.events(), hostile.started()))));

            // 300 KB that is not an event at all, with 500 KB of headers
            byte[] garbage = new byte[300_000];
            random.nextBytes(garbage);
            garbage[0] = 7; // not the wire format's magic byte
            List<Header> headers = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                headers.add(new RecordHeader("h" + i, new byte[5_000]));
            }
            letters = attack(gzip, "UNDECODABLE", List.of(new ProducerRecord<>(topics.events(), null,
                    "mallory".getBytes(StandardCharsets.UTF_8), garbage, headers)));
            assertThat(header(letters.get(0), DeadLetterHeaders.HEADERS_DROPPED)).isNotNull();
        }
        try (KafkaProducer<byte[], byte[]> lz4 = producer("lz4", 1024 * 1024)) {
            lz4.send(record(hostile.userId, hostile.started()));
            // four 250 KB tool-call ids
            List<ProducerRecord<byte[], byte[]>> calls = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                calls.add(record(hostile.userId, hostile.toolExecuting(i, i + "x".repeat(250_000))));
            }
            attack(lz4, "ID_TOO_LONG", calls);
            // seq = Long.MAX_VALUE
            attack(lz4, "INVALID_SEQ", List.of(record(hostile.userId, hostile.base(Long.MAX_VALUE, "agent_thinking")
                    .setOccurredAt(java.time.Instant.now()).setThinking(new Thinking("x")).build())));
            // more tool calls at once than any agent runs
            for (int i = 1; i <= 64; i++) {
                lz4.send(record(hostile.userId, hostile.toolExecuting(i, "call-" + i)));
            }
            attack(lz4, "TOO_MANY_OPEN_CALLS", List.of(record(hostile.userId, hostile.toolExecuting(65, "call-65"))));
            // a negative duration
            attack(lz4, "INVALID_NUMBER", List.of(record(hostile.userId, hostile.base(66, "tool_completed")
                    .setToolCallId("call-1").setToolResult(new dev.agentevents.event.ToolResult("{}", false, -1L))
                    .build())));
        }
        assertThat(router.metrics().threadReplacements()).as("stream threads replaced").isZero();
        assertThat(router.metrics().writeFailures(RouterMetrics.WriteFailure.TOO_LARGE)).isZero();
        assertThat(router.metrics().writeFailures(RouterMetrics.WriteFailure.OTHER)).isZero();
    }

    @Test
    void shouldCountInputOnAnotherPartitionThanMurmur2OfItsKeyAndStillDeliverIt() throws Exception {
        startRouter();
        TestRun run = new TestRun("crc-user", "run-crc");
        int right = partitionOf(run.userId.getBytes(StandardCharsets.UTF_8));
        int wrong = (right + 1) % PARTITIONS;
        try (KafkaProducer<byte[], byte[]> producer = producer("lz4", 1024 * 1024)) {
            for (AgentEvent event : run.complete()) {
                producer.send(new ProducerRecord<>(topics.events(), wrong, run.userId.getBytes(StandardCharsets.UTF_8),
                        avro.serialize(topics.events(), event)));
            }
        }
        await().atMost(INNOCENT_WITHIN).pollInSameThread()
                .until(() -> readOrdered().getOrDefault(run.runId, List.of()).size() == 6);
        assertThat(router.metrics().misroutedCount()).isEqualTo(6);
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + router.httpPort() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("router_misrouted_input_total 6.0");
    }

    @Test
    void shouldCloseTwentyThousandAbandonedRunsAtABoundedRateWhileInnocentRunsFlow() throws Exception {
        startRouter("ROUTER_ABANDON_AFTER_MS", "4000", "ROUTER_RUN_GRACE_MS", "2000");
        int users = 200;
        int runsPerUser = 100;
        List<ProducerRecord<byte[], byte[]>> refused = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer("lz4", 1024 * 1024)) {
            for (int u = 0; u < users; u++) {
                for (int r = 0; r <= runsPerUser; r++) {
                    ProducerRecord<byte[], byte[]> start = record("idle-" + u,
                            new TestRun("idle-" + u, "run-" + u + "-" + r).started());
                    producer.send(start);
                    if (r == runsPerUser) {
                        refused.add(start);
                    }
                }
            }
        }
        List<ConsumerRecord<byte[], byte[]>> letters = awaitDeadLetters(refused);
        assertThat(letters).extracting(l -> header(l, DeadLetterHeaders.CODE)).containsOnly("TOO_MANY_OPEN_RUNS");

        // while the router closes 20,000 runs, runs of other users on every partition keep arriving in seconds
        long closing = System.nanoTime();
        List<Duration> innocent = new ArrayList<>();
        int abandoned = 0;
        while (abandoned < users * runsPerUser && System.nanoTime() - closing < Duration.ofSeconds(90).toNanos()) {
            innocent.add(innocentRunOn(innocent.size() % PARTITIONS));
            abandoned = (int) delivered.values().stream().flatMap(List::stream)
                    .filter(o -> o.getEvent() != null && o.getEvent().getFailed() != null
                            && "ABANDONED".equals(o.getEvent().getFailed().getCode())
                            && o.getUserId().startsWith("idle-")).count();
        }
        assertThat(abandoned).isEqualTo(users * runsPerUser);
        assertThat(innocent).allSatisfy(d -> assertThat(d).isLessThan(INNOCENT_WITHIN));
        assertThat(router.metrics().threadReplacements()).isZero();
    }

    @Test
    void shouldTurnARefusedWriteIntoASmallDeadLetterAfterOneReplacedThreadWhenATopicShrinksUnderTheRouter()
            throws Exception {
        startRouter();
        innocentRunOn(1);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topics.deadLetters()),
                    List.of(new AlterConfigOp(new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "40000"),
                            AlterConfigOp.OpType.SET)))).all().get();
        }
        TestRun victim = new TestRun("eve", "run-eve");
        ProducerRecord<byte[], byte[]> big = record("not-eve", victim.base(0, "agent_started")
                .setThinking(new Thinking(randomText(100_000))).build());
        try (KafkaProducer<byte[], byte[]> producer = producer("lz4", 1024 * 1024)) {
            producer.send(big);
        }
        Duration innocent = innocentRunOn(partitionOf(big.key()));
        assertThat(innocent).isLessThan(INNOCENT_WITHIN);
        ConsumerRecord<byte[], byte[]> letter = awaitDeadLetters(List.of(big)).get(0);
        assertThat(header(letter, DeadLetterHeaders.CODE)).isEqualTo("WRITE_FAILED");
        assertThat(header(letter, DeadLetterHeaders.VALUE_SIZE)).isEqualTo(Integer.toString(big.value().length));
        assertThat(router.metrics().writeFailures(RouterMetrics.WriteFailure.TOO_LARGE)).isGreaterThanOrEqualTo(1);
        assertThat(router.metrics().threadReplacements()).isLessThanOrEqualTo(1);
    }
}
