package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.testing.Records;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The router as a real Kafka Streams application on the embedded broker and registry. */
@Tag("slow")
class RouterIntegrationTest {

    private static final int PARTITIONS = 6;
    private final EmbeddedStack stack = EmbeddedStack.shared();
    private final List<RouterApp> routers = new ArrayList<>();
    private Topics topics;
    private String applicationId;
    private AvroSerializer<AgentEvent> serializer;

    @BeforeEach
    void isolate() throws Exception {
        String prefix = "it-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topics = stack.topicsWithPrefix(prefix, PARTITIONS);
        applicationId = prefix + "router";
        serializer = new AvroSerializer<>(new SchemaRegistryClient(stack.registryUrl()), Map.of(), false);
    }

    @AfterEach
    void stopRouters() {
        routers.forEach(r -> r.close(Duration.ofSeconds(20)));
    }

    private RouterApp startRouter() throws Exception {
        return startRouter(Map.of());
    }

    private RouterApp startRouter(Map<String, String> overrides) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", topics.prefix());
        env.put("ROUTER_APPLICATION_ID", applicationId);
        env.put("ROUTER_STATE_DIR", Files.createTempDirectory("router-it").toString());
        env.put("ROUTER_HTTP_PORT", "0");
        env.putAll(overrides);
        RouterApp router = RouterApp.start(RouterConfig.fromEnv(env));
        routers.add(router);
        return router;
    }

    /** Runs of {@code users} users, {@code runsPerUser} each, six events per run. */
    private static Map<String, List<AgentEvent>> runs(String tag, int users, int runsPerUser) {
        Map<String, List<AgentEvent>> runs = new LinkedHashMap<>();
        for (int u = 0; u < users; u++) {
            for (int r = 0; r < runsPerUser; r++) {
                TestRun run = new TestRun(tag + "-user-" + u, tag + "-run-" + u + "-" + r);
                runs.put(run.runId, run.complete());
            }
        }
        return runs;
    }

    /** Sends every run through {@code producers} producers in parallel: each run's events shuffled, some twice. */
    private void publishShuffledWithDuplicates(Map<String, List<AgentEvent>> runs, int producers,
                                               Runnable inTheMiddle) throws Exception {
        List<List<AgentEvent>> perProducer = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            perProducer.add(new ArrayList<>());
        }
        Random random = new Random(11);
        int i = 0;
        for (List<AgentEvent> run : runs.values()) {
            List<AgentEvent> shuffled = new ArrayList<>(run);
            Collections.shuffle(shuffled, random);
            for (AgentEvent event : run) {
                if (random.nextInt(5) == 0) {
                    shuffled.add(random.nextInt(shuffled.size()), event);
                }
            }
            perProducer.get(i++ % producers).addAll(shuffled);
        }
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        try {
            List<Future<?>> sending = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                List<AgentEvent> events = perProducer.get(p);
                Runnable middle = p == 0 ? inTheMiddle : null;
                sending.add(pool.submit(() -> {
                    try (KafkaProducer<byte[], byte[]> producer = producer()) {
                        for (int n = 0; n < events.size(); n++) {
                            AgentEvent event = events.get(n);
                            producer.send(new ProducerRecord<>(topics.events(), utf8(event.getUserId()),
                                    serializer.serialize(topics.events(), event)));
                            if (n == events.size() / 2 && middle != null) {
                                producer.flush();
                                middle.run();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : sending) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private List<ConsumerRecord<String, OrderedEvent>> readOrdered(int expected, Duration timeout) {
        AvroDeserializer<OrderedEvent> deserializer = AvroDeserializer.specific(
                new SchemaRegistryClient(stack.registryUrl()), OrderedEvent.class);
        try (KafkaConsumer<String, OrderedEvent> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "verify-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), deserializer)) {
            consumer.subscribe(List.of(topics.ordered()));
            // read on a little past the expected count: anything beyond it is a duplicate
            return Records.atLeastAndAnyMore(consumer, expected, timeout, Duration.ofSeconds(2));
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> readDeadLetters(int expected, Duration timeout) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "verify-dlq-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.deadLetters()));
            return Records.atLeast(consumer, expected, timeout);
        }
    }

    /** Every run exactly once, in seq order, under its own user's key, in the user's partition. */
    private static void assertEveryRunOnceInOrder(Map<String, List<AgentEvent>> runs,
                                                  List<ConsumerRecord<String, OrderedEvent>> records) {
        Map<String, List<AgentEvent>> seen = new HashMap<>();
        Map<String, Set<Integer>> partitionsOfUser = new HashMap<>();
        for (ConsumerRecord<String, OrderedEvent> record : records) {
            OrderedEvent ordered = record.value();
            assertThat(ordered.getKind()).as("no gaps expected").isEqualTo("event");
            assertThat(record.key()).isEqualTo(ordered.getEvent().getUserId());
            seen.computeIfAbsent(ordered.getRunId(), k -> new ArrayList<>()).add(ordered.getEvent());
            partitionsOfUser.computeIfAbsent(record.key(), k -> new HashSet<>()).add(record.partition());
        }
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(runs.keySet());
        runs.forEach((runId, events) -> assertThat(seen.get(runId)).as("run %s", runId)
                .containsExactlyElementsOf(events));
        assertThat(partitionsOfUser.values()).allMatch(p -> p.size() == 1);
    }

    @Test
    void shouldDeliverEveryRunOnceInOrderFromThreeProducersAndDivertMalformedRecords() throws Exception {
        RouterApp router = startRouter();
        Map<String, List<AgentEvent>> runs = runs("a", 40, 2);
        byte[] garbage = {0x42, 0x41, 0x44, 0x21, 0x00, 0x01};
        AgentEvent mismatched = new TestRun("victim", "run-x").started();

        publishShuffledWithDuplicates(runs, 3, () -> {
            try (KafkaProducer<byte[], byte[]> producer = producer()) {
                producer.send(new ProducerRecord<>(topics.events(), utf8("a-user-1"), garbage));
                producer.send(new ProducerRecord<>(topics.events(), utf8("attacker"),
                        serializer.serialize(topics.events(), mismatched)));
            }
        });

        int expected = runs.values().stream().mapToInt(List::size).sum();
        assertEveryRunOnceInOrder(runs, readOrdered(expected, Duration.ofSeconds(60)));
        List<ConsumerRecord<byte[], byte[]>> dead = readDeadLetters(2, Duration.ofSeconds(30));
        Map<String, ConsumerRecord<byte[], byte[]>> byCode = new HashMap<>();
        dead.forEach(r -> byCode.put(DeadLetterHeaders.text(r.headers(), DeadLetterHeaders.CODE).orElseThrow(), r));
        assertThat(byCode).containsOnlyKeys("UNDECODABLE", "KEY_USER_MISMATCH");
        ConsumerRecord<byte[], byte[]> undecodable = byCode.get("UNDECODABLE");
        assertThat(undecodable.value()).isEqualTo(garbage);
        assertThat(undecodable.key()).isEqualTo(utf8("a-user-1"));
        assertThat(DeadLetterHeaders.text(undecodable.headers(), DeadLetterHeaders.EXCEPTION))
                .hasValue("dev.agentevents.serde.AvroDecodeException");
        assertThat(DeadLetterHeaders.text(undecodable.headers(), DeadLetterHeaders.TOPIC)).hasValue(topics.events());
        assertThat(DeadLetterHeaders.text(undecodable.headers(), DeadLetterHeaders.MESSAGE).orElseThrow())
                .contains("starts with 0x42");
        assertThat(DeadLetterHeaders.text(byCode.get("KEY_USER_MISMATCH").headers(), DeadLetterHeaders.MESSAGE))
                .hasValue("record key 'attacker' is not the event's userId 'victim'");

        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + router.httpPort();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).startsWith("{\"status\":\"UP\",\"streams\":\"RUNNING\",\"activeTasks\":"
                + PARTITIONS + ",\"inputBehindSeconds\":");
        // everything sent was routed above; the input progress is looked at every second
        double behind = Double.parseDouble(health.body().replaceAll(".*\"inputBehindSeconds\":([0-9.]+)}$", "$1"));
        assertThat(behind).isBetween(0.0, 10.0);
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("router_events_accepted_total " + (double) expected)
                .contains("router_events_rejected_total{reason=\"KEY_USER_MISMATCH\"} 1.0")
                .contains("router_events_rejected_total{reason=\"UNDECODABLE\"} 1.0")
                .contains("router_events_dropped_total{kind=\"duplicate_")
                .contains("kafka_stream_thread_process_total");
    }

    @Test
    void shouldNeitherLoseNorRepeatEventsWhenTheRouterIsReplacedMidStream() throws Exception {
        RouterApp first = startRouter();
        assertThat(first.awaitRunning(Duration.ofSeconds(60))).isTrue();
        Map<String, List<AgentEvent>> runs = runs("b", 30, 3);
        List<RouterApp> replacement = new ArrayList<>();

        publishShuffledWithDuplicates(runs, 2, () -> {
            first.close(Duration.ofSeconds(20));
            try {
                replacement.add(startRouter());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        assertThat(replacement).hasSize(1);
        int expected = runs.values().stream().mapToInt(List::size).sum();
        assertEveryRunOnceInOrder(runs, readOrdered(expected, Duration.ofSeconds(90)));
    }

    @Test
    void shouldStillGiveUpOnAMissingSeqAfterTheRouterWaitingForItWasReplaced() throws Exception {
        Map<String, String> gapAfter6s = Map.of("ROUTER_GAP_TIMEOUT_MS", "6000", "ROUTER_SWEEP_INTERVAL_MS", "200");
        RouterApp first = startRouter(gapAfter6s);
        assertThat(first.awaitRunning(Duration.ofSeconds(60))).isTrue();
        TestRun run = new TestRun("restart-user", "restart-run");
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (AgentEvent event : List.of(run.started(), run.thinking(2))) { // seq 1 never comes
                producer.send(new ProducerRecord<>(topics.events(), utf8(run.userId),
                        serializer.serialize(topics.events(), event))).get(10, TimeUnit.SECONDS);
            }
        }
        awaitInputCommitted(2, Duration.ofSeconds(30)); // seq 2 is held, committed with the run's state
        first.close(Duration.ofSeconds(20));
        routers.remove(first);

        // a new instance (empty local state, restored from the changelog) owns the wait now
        startRouter(gapAfter6s);

        List<ConsumerRecord<String, OrderedEvent>> records = readOrdered(3, Duration.ofSeconds(60));
        assertThat(records).extracting(r -> r.value().getKind()).containsExactly("event", "gap", "event");
        assertThat(records.get(1).value().getGap().getFromSeq()).isEqualTo(1);
        assertThat(records.get(2).value().getEvent().getSeq()).isEqualTo(2);
    }

    @Test
    void shouldSplitPartitionsBetweenTwoInstancesAndGiveTheSameResultAsOne() throws Exception {
        RouterApp a = startRouter();
        RouterApp b = startRouter();
        Awaitility.await("tasks split between both instances").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    assertThat(activeTasks(a)).isPositive();
                    assertThat(activeTasks(b)).isPositive();
                    assertThat(activeTasks(a) + activeTasks(b)).isEqualTo(PARTITIONS);
                });
        Map<String, List<AgentEvent>> runs = runs("c", 40, 2);

        publishShuffledWithDuplicates(runs, 3, null);

        int expected = runs.values().stream().mapToInt(List::size).sum();
        assertEveryRunOnceInOrder(runs, readOrdered(expected, Duration.ofSeconds(60)));
    }

    /** Waits until the router's group has committed {@code records} input records: processed, with their state. */
    private void awaitInputCommitted(long records, Duration timeout) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            Awaitility.await(records + " input records committed").atMost(timeout).pollInterval(Duration.ofMillis(50))
                    .until(() -> admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata()
                            .get(10, TimeUnit.SECONDS).entrySet().stream()
                            .filter(e -> e.getKey().topic().equals(topics.events()) && e.getValue() != null)
                            .mapToLong(e -> e.getValue().offset()).sum(), committed -> committed >= records);
        }
    }

    private static int activeTasks(RouterApp router) {
        return router.streams().metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }
}
