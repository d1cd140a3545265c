package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.testing.Records;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Hostile input mixed into normal traffic, through the real router on the embedded broker: every bad record lands
 * in the dead-letter topic with the right reason, every good record around it is delivered in order, and the state
 * of finished runs is gone after the grace period.
 */
@Tag("slow")
class HostileInputTest {

    private final EmbeddedStack stack = EmbeddedStack.shared();
    private RouterApp router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close(Duration.ofSeconds(20));
        }
    }

    @Test
    void shouldDivertEveryBadRecordWithItsReasonAndDeliverEveryGoodOneInOrder() throws Exception {
        String prefix = "hostile-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Topics topics = stack.topicsWithPrefix(prefix, 4);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", prefix);
        env.put("ROUTER_APPLICATION_ID", prefix + "router");
        env.put("ROUTER_STATE_DIR", Files.createTempDirectory("hostile").toString());
        env.put("ROUTER_HTTP_PORT", "0");
        env.put("ROUTER_MAX_EVENT_BYTES", "4096");
        env.put("ROUTER_GAP_TIMEOUT_MS", "1500");
        env.put("ROUTER_RUN_GRACE_MS", "8000");
        router = RouterApp.start(RouterConfig.fromEnv(env));
        SchemaRegistryClient registry = new SchemaRegistryClient(stack.registryUrl());
        AvroSerializer<AgentEvent> avro = new AvroSerializer<>(registry, Map.of(), false);
        Map<String, List<AgentEvent>> expected = new LinkedHashMap<>();
        Map<String, String> expectedDead = new LinkedHashMap<>();
        List<ProducerRecord<byte[], byte[]>> traffic = new ArrayList<>();
        Random random = new Random(5);

        // normal runs of normal users, interleaved with everything below
        for (int u = 0; u < 20; u++) {
            TestRun run = new TestRun("good-" + u, "good-run-" + u);
            expected.put(run.runId, run.complete());
        }
        // a 10,000-event run
        TestRun longRun = new TestRun("marathon", "run-10k");
        List<AgentEvent> marathon = new ArrayList<>();
        marathon.add(longRun.started());
        for (long seq = 1; seq < 9_999; seq++) {
            marathon.add(longRun.delta(seq));
        }
        marathon.add(longRun.completed(9_999));
        expected.put(longRun.runId, marathon);
        // strings with NUL, emoji and an unpaired surrogate (UTF-8 cannot carry it: it arrives as '?')
        TestRun odd = new TestRun("odd-\u0000-\ud83d\ude80", "run-odd");
        AgentEvent oddThought = odd.base(1, "agent_thinking").setThinking(new Thinking("nul\u0000 rocket \ud83d\ude80 "
                + "lone \ud800 surrogate")).build();
        expected.put(odd.runId, List.of(odd.started(), oddThought, odd.completed(2)));
        // a payload exactly at the size limit passes; one byte over goes to the dead letters
        TestRun sized = new TestRun("sized", "run-sized");
        int text = 4096 - avro.serialize(topics.events(), sized.base(1, "agent_thinking")
                .setThinking(new Thinking("")).build()).length;
        AgentEvent atLimit;
        do { // the text's length prefix is a varint: its own size grows with the text
            atLimit = sized.base(1, "agent_thinking").setThinking(new Thinking("x".repeat(text--))).build();
        } while (avro.serialize(topics.events(), atLimit).length > 4096);
        assertThat(avro.serialize(topics.events(), atLimit)).hasSize(4096);
        AgentEvent overLimit = sized.base(2, "agent_thinking").setThinking(new Thinking("x".repeat(text + 2)))
                .build();
        assertThat(avro.serialize(topics.events(), overLimit)).hasSize(4097);
        expected.put(sized.runId, List.of(sized.started(), atLimit, sized.completed(2)));

        for (List<AgentEvent> run : expected.values()) {
            for (AgentEvent event : run) {
                traffic.add(record(topics, event.getUserId(), avro.serialize(topics.events(), event)));
            }
        }
        // 1,000 duplicates of one event: dropped, not dead-lettered
        AgentEvent repeated = expected.get("good-run-3").get(1);
        for (int i = 0; i < 1_000; i++) {
            traffic.add(record(topics, repeated.getUserId(), avro.serialize(topics.events(), repeated)));
        }
        // the bad ones
        byte[] good = avro.serialize(topics.events(), new TestRun("victim", "run-v").started());
        byte[] randomBytes = new byte[64];
        random.nextBytes(randomBytes);
        randomBytes[0] = 7;
        traffic.add(dead(topics, "bad-random", randomBytes, "UNDECODABLE", expectedDead));
        byte[] magic = good.clone();
        magic[0] = 1;
        traffic.add(dead(topics, "bad-magic", magic, "UNDECODABLE", expectedDead));
        byte[] unknownId = good.clone();
        ByteBuffer.wrap(unknownId).putInt(1, 424_242);
        traffic.add(dead(topics, "bad-schema", unknownId, "UNKNOWN_SCHEMA_ID", expectedDead));
        traffic.add(dead(topics, "bad-truncated", Arrays.copyOf(good, good.length - 9), "UNDECODABLE", expectedDead));
        traffic.add(dead(topics, "mallory", good, "KEY_USER_MISMATCH", expectedDead));
        TestRun negative = new TestRun("neg", "run-neg");
        traffic.add(dead(topics, "neg", avro.serialize(topics.events(), negative.base(-5, "agent_thinking")
                .setThinking(new Thinking("x")).build()), "INVALID_SEQ", expectedDead));
        traffic.add(dead(topics, "sized", avro.serialize(topics.events(), overLimit), "OVERSIZED", expectedDead));
        // a run sent last, and an event after its end sent once the router has it (well inside the grace period)
        TestRun closer = new TestRun("closer", "run-closer");
        List<AgentEvent> closerRun = closer.complete();
        expectedDead.put("closer", "AFTER_TERMINAL");

        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer())) {
            // good records keep their order per run; everything else is spread through them
            List<ProducerRecord<byte[], byte[]>> goodOnes = traffic.subList(0, traffic.size() - 7 - 1_000);
            List<ProducerRecord<byte[], byte[]>> rest = new ArrayList<>(traffic.subList(goodOnes.size(),
                    traffic.size()));
            int every = Math.max(1, goodOnes.size() / (rest.size() + 1));
            int next = 0;
            for (int i = 0; i < goodOnes.size(); i++) {
                producer.send(goodOnes.get(i));
                if (i % every == 0 && next < rest.size()) {
                    producer.send(rest.get(next++));
                }
            }
            while (next < rest.size()) {
                producer.send(rest.get(next++));
            }
            producer.flush();
            awaitAccepted(goodOnes.size());
            for (AgentEvent event : closerRun) {
                producer.send(record(topics, "closer", avro.serialize(topics.events(), event)));
            }
            producer.flush();
            awaitAccepted(goodOnes.size() + closerRun.size());
            producer.send(record(topics, "closer", avro.serialize(topics.events(), closer.thinking(9))));
            // a seq jump: seq 2 never comes, so a gap marker follows the timeout
            TestRun jumpy = new TestRun("jumpy", "run-jump");
            producer.send(record(topics, "jumpy", avro.serialize(topics.events(), jumpy.started())));
            producer.send(record(topics, "jumpy", avro.serialize(topics.events(), jumpy.thinking(1))));
            producer.send(record(topics, "jumpy", avro.serialize(topics.events(), jumpy.completed(3))));
            producer.flush();
        }

        expected.put(closer.runId, closerRun);
        int total = expected.values().stream().mapToInt(List::size).sum() + 4;
        Map<String, List<OrderedEvent>> delivered = readOrdered(topics, registry, total);
        expected.forEach((runId, events) -> assertThat(delivered.get(runId)).as(runId)
                .extracting(OrderedEvent::getEvent).containsExactlyElementsOf(events.stream()
                        .map(e -> e == oddThought ? roundTripped(oddThought) : e).toList()));
        assertThat(delivered.get("run-jump")).extracting(OrderedEvent::getKind)
                .containsExactly("event", "event", "gap", "event");
        Map<String, String> dead = readDeadLetters(topics, expectedDead.size());
        assertThat(dead).containsExactlyInAnyOrderEntriesOf(expectedDead);
        // a retried task would count again: the ordered topic above is the exact check, this is "they were seen"
        assertThat(dropped("duplicate_event_id") + dropped("duplicate_seq")).isGreaterThanOrEqualTo(1_000);

        // every run has ended, so after the grace period the router keeps no state for any of them
        Awaitility.await("no run state left after the grace period").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(500)).until(() -> count(RunSequencer.RUNS_STORE), left -> left == 0);
        assertThat(count(RunSequencer.PENDING_STORE)).as("events still held").isZero();
    }

    private long count(String storeName) {
        ReadOnlyKeyValueStore<Object, Object> store = router.streams().store(StoreQueryParameters.fromNameAndType(
                storeName, QueryableStoreTypes.keyValueStore()));
        long count = 0;
        try (var it = store.all()) {
            while (it.hasNext()) {
                it.next();
                count++;
            }
        }
        return count;
    }

    private double accepted() {
        return router.meterRegistry().get("router.events.accepted").counter().count();
    }

    private double dropped(String kind) {
        var counter = router.meterRegistry().find("router.events.dropped").tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }

    private void awaitAccepted(int count) {
        Awaitility.await(count + " events accepted").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
                .until(this::accepted, accepted -> accepted >= count);
    }

    /** What Avro's UTF-8 makes of a Java string with an unpaired surrogate. */
    private static AgentEvent roundTripped(AgentEvent event) {
        String text = event.getThinking().getText();
        String utf8 = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        return AgentEvent.newBuilder(event).setThinking(new Thinking(utf8)).build();
    }

    private static ProducerRecord<byte[], byte[]> record(Topics topics, String key, byte[] value) {
        return new ProducerRecord<>(topics.events(), key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static ProducerRecord<byte[], byte[]> dead(Topics topics, String key, byte[] value, String reason,
                                                       Map<String, String> expected) {
        expected.put(key, reason);
        return record(topics, key, value);
    }

    private Map<String, List<OrderedEvent>> readOrdered(Topics topics, SchemaRegistryClient registry, int count) {
        Map<String, List<OrderedEvent>> runs = new HashMap<>();
        try (KafkaConsumer<String, OrderedEvent> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "hostile-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
                AvroDeserializer.specific(registry, OrderedEvent.class))) {
            consumer.subscribe(List.of(topics.ordered()));
            for (ConsumerRecord<String, OrderedEvent> record
                    : Records.atLeast(consumer, count, Duration.ofSeconds(90))) {
                runs.computeIfAbsent(record.value().getRunId(), k -> new ArrayList<>()).add(record.value());
            }
        }
        return runs;
    }

    private Map<String, String> readDeadLetters(Topics topics, int count) {
        Map<String, String> reasons = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "hostile-dlq-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.deadLetters()));
            // read on past the expected count: a dead letter too many shows in the map
            for (ConsumerRecord<byte[], byte[]> record : Records.atLeastAndAnyMore(consumer, count,
                    Duration.ofSeconds(30), Duration.ofMillis(1500))) {
                reasons.put(new String(record.key(), StandardCharsets.UTF_8),
                        DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.CODE).orElse("?"));
            }
        }
        return reasons;
    }
}
