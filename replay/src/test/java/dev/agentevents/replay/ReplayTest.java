package dev.agentevents.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.testing.Browsers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay tool against the embedded broker and registry, run as its command line is. */
@Tag("slow")
class ReplayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
    private final EmbeddedStack stack = EmbeddedStack.shared();
    private Topics topics;
    private KafkaProducer<byte[], byte[]> producer;
    private SchemaRegistryClient registry;

    record Result(int code, String out, String err) {
        List<JsonNode> lines() {
            List<JsonNode> nodes = new ArrayList<>();
            out.lines().filter(l -> !l.isBlank()).forEach(l -> {
                try {
                    nodes.add(JSON.readTree(l));
                } catch (Exception e) {
                    throw new AssertionError("not JSON: " + l, e);
                }
            });
            return nodes;
        }
    }

    @BeforeEach
    void topics() throws Exception {
        topics = stack.topicsWithPrefix("rp-" + UUID.randomUUID().toString().substring(0, 8) + ".", 4);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
        registry = new SchemaRegistryClient(stack.registryUrl());
    }

    private Result replay(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                "SCHEMA_REGISTRY_URL", stack.registryUrl(), "AGENT_EVENTS_TOPIC_PREFIX", topics.prefix());
        int code = ReplayMain.run(args, env, Clock.fixed(T0.plusSeconds(6 * 3600), ZoneOffset.UTC),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static List<AgentEvent> run(String user, String runId, Instant at) {
        AgentInfo agent = AgentInfo.newBuilder().setId("a").setName("Auditor").setVersion("1").build();
        List<AgentEvent> events = new ArrayList<>();
        String[] types = {"agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"};
        for (int seq = 0; seq < types.length; seq++) {
            AgentEvent.Builder b = AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(types[seq])
                    .setUserId(user).setThreadId("t-" + user).setRunId(runId).setSeq(seq)
                    .setOccurredAt(at.plusMillis(400L * seq)).setAgent(agent);
            switch (types[seq]) {
                case "agent_thinking" -> b.setThinking(new Thinking("checking the ledger"));
                case "tool_executing" -> b.setToolCallId("c1").setToolCall(new ToolCall("run_sql", "{\"q\":1}"));
                case "tool_completed" -> b.setToolCallId("c1").setToolResult(new ToolResult("{\"rows\":3}", false, 400L));
                case "agent_completed" -> b.setCompleted(new Completed("{\"ok\":true}", 10L, 5L, "stop"));
                default -> { }
            }
            events.add(b.build());
        }
        return events;
    }

    /** Writes the run's events as the router would, hash chain and all, each record at its event's time. */
    private List<OrderedEvent> writeOrdered(List<AgentEvent> events) throws Exception {
        String prev = HashChain.GENESIS;
        List<OrderedEvent> written = new ArrayList<>();
        for (AgentEvent event : events) {
            OrderedEvent ordered = OrderedRecords.event(prev, event, event.getOccurredAt(), null);
            prev = ordered.getHash();
            written.add(ordered);
        }
        for (OrderedEvent ordered : written) {
            send(ordered);
        }
        return written;
    }

    private void send(OrderedEvent ordered) throws Exception {
        AvroSerializer<OrderedEvent> serializer = new AvroSerializer<>(registry, Map.of(), false);
        producer.send(new ProducerRecord<>(topics.ordered(), null, ordered.getRoutedAt().toEpochMilli(),
                ordered.getUserId().getBytes(StandardCharsets.UTF_8), serializer.serialize(topics.ordered(), ordered)))
                .get(30, TimeUnit.SECONDS);
    }

    @Test
    void shouldReturnExactlyTheRecordsInTheTimeRange() throws Exception {
        writeOrdered(run("ann", "run-early", T0));
        writeOrdered(run("ann", "run-middle", T0.plusSeconds(3600)));
        writeOrdered(run("ann", "run-late", T0.plusSeconds(7200)));

        Result result = replay("--from", T0.plusSeconds(1800).toString(), "--to", "-4h30m");

        assertThat(result.code()).isZero();
        assertThat(result.lines()).hasSize(5).allMatch(l -> l.path("event").path("runId").asText().equals("run-middle"));
        assertThat(result.lines()).extracting(l -> l.path("event").path("seq").asLong()).containsExactly(0L, 1L, 2L,
                3L, 4L);
        assertThat(result.err()).contains("5 written");
    }

    @Test
    void shouldReadOnlyThePartitionOfTheUserAndOnlyTheirEvents() throws Exception {
        writeOrdered(run("ann", "run-a", T0));
        writeOrdered(run("ben", "run-b", T0));
        writeOrdered(run("cat", "run-c", T0));

        Result result = replay("--user", "ben");

        assertThat(result.lines()).hasSize(5).allMatch(l -> l.path("event").path("userId").asText().equals("ben"));
        assertThat(result.err()).containsPattern("partitions \\[\\d+]").contains("the partition of user ben");
    }

    @Test
    void shouldDecodeEventsWrittenWithSchemaVersionsOneAndTwo() throws Exception {
        AgentEvent v1 = run("dan", "run-d", T0).get(1);
        Schema v2 = withOptionalHandoff(AgentEvent.getClassSchema());
        GenericRecord written = new GenericData.Record(v2);
        for (Schema.Field field : AgentEvent.getClassSchema().getFields()) {
            Object value = v1.get(field.pos());
            written.put(field.name(), value);
        }
        written.put("occurredAt", v1.getOccurredAt().toEpochMilli());
        GenericRecord agent = new GenericData.Record(v2.getField("agent").schema());
        agent.put("id", "a");
        agent.put("name", "Auditor");
        agent.put("version", "1");
        written.put("agent", agent);
        GenericRecord thinking = new GenericData.Record(v2.getField("thinking").schema().getTypes().get(1));
        thinking.put("text", "v2 thoughts");
        written.put("thinking", thinking);
        GenericRecord handoff = new GenericData.Record(v2.getField("handoff").schema().getTypes().get(1));
        handoff.put("toAgent", "billing");
        written.put("handoff", handoff);
        AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(), false);
        String subject = Topics.valueSubject(topics.events());
        producer.send(new ProducerRecord<>(topics.events(), "dan".getBytes(StandardCharsets.UTF_8),
                new AvroSerializer<AgentEvent>(registry, Map.of(), false).serialize(topics.events(), v1))).get();
        producer.send(new ProducerRecord<>(topics.events(), "dan".getBytes(StandardCharsets.UTF_8),
                serializer.serialize(topics.events(), written))).get();

        Result result = replay("--topic", "events");

        assertThat(registry.versions(subject)).hasSize(2);
        assertThat(result.lines()).hasSize(2);
        assertThat(result.lines().get(0).path("event").path("thinking").path("text").asText())
                .isEqualTo("checking the ledger");
        assertThat(result.lines().get(0).path("event").has("handoff")).isFalse();
        assertThat(result.lines().get(1).path("event").path("handoff").path("toAgent").asText()).isEqualTo("billing");
        assertThat(result.lines().get(1).path("event").path("thinking").path("text").asText()).isEqualTo("v2 thoughts");
    }

    static Schema withOptionalHandoff(Schema base) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(base.toString());
        ObjectNode field = ((ArrayNode) root.get("fields")).addObject();
        field.put("name", "handoff");
        ArrayNode union = field.putArray("type");
        union.add("null");
        ObjectNode record = union.addObject().put("type", "record").put("name", "Handoff");
        record.putArray("fields").addObject().put("name", "toAgent").put("type", "string");
        field.putNull("default");
        return new Schema.Parser().parse(root.toString());
    }

    @Test
    void shouldVerifyCompleteUntouchedRunsAndExitZero() throws Exception {
        writeOrdered(run("eve", "run-e1", T0));
        writeOrdered(run("eve", "run-e2", T0.plusSeconds(60)));

        Result result = replay("--verify", "--user", "eve");

        assertThat(result.code()).isZero();
        assertThat(result.err()).contains("2 runs, 2 verified, 0 failed").contains("COMPLETED");
    }

    @Test
    void shouldFailVerificationNamingTheRunAndEventWhenAPayloadWasTampered() throws Exception {
        List<AgentEvent> events = run("fox", "run-tampered", T0);
        String prev = HashChain.GENESIS;
        for (AgentEvent event : events) {
            OrderedEvent honest = OrderedRecords.event(prev, event, event.getOccurredAt(), null);
            prev = honest.getHash();
            if (event.getSeq() == 1) {
                honest.getEvent().setThinking(new Thinking("nothing to see here"));
            }
            send(honest);
        }
        writeOrdered(run("fox", "run-fine", T0.plusSeconds(10)));

        Result result = replay("--verify");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).contains("run-tampered").contains("FAIL: agent_thinking seq 1")
                .contains("was altered").contains("1 failed");
        assertThat(result.err().lines().filter(l -> l.contains("run-fine"))).allMatch(l -> l.contains(" ok"));
    }

    @Test
    void shouldFailVerificationWhenARecordWasRemoved() throws Exception {
        List<AgentEvent> events = run("gil", "run-holed", T0);
        String prev = HashChain.GENESIS;
        for (AgentEvent event : events) {
            OrderedEvent ordered = OrderedRecords.event(prev, event, event.getOccurredAt(), null);
            prev = ordered.getHash();
            if (event.getSeq() != 2) {
                send(ordered);
            }
        }

        Result result = replay("--verify", "--run", "run-holed");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).contains("run-holed").contains("FAIL: a record is missing or out of place before "
                + "tool_completed seq 3");
    }

    @Test
    void shouldReportOpenRunsAndRunsBegunBeforeTheRangeWithoutFailing() throws Exception {
        writeOrdered(run("hal", "run-open", T0).subList(0, 3));
        writeOrdered(run("hal", "run-spanning", T0.minusSeconds(1)));

        Result result = replay("--verify", "--from", T0.toString());

        assertThat(result.code()).isZero();
        assertThat(result.err()).contains("OPEN").contains("COMPLETED");
        Result later = replay("--verify", "--from", T0.plusMillis(500).toString(), "--run", "run-spanning");
        assertThat(later.code()).isZero();
        assertThat(later.err()).contains("ok (chain verified from the first record in range)");
    }

    @Test
    void shouldFailVerificationForRunWithGapMarker() throws Exception {
        List<AgentEvent> events = run("ivy", "run-gap", T0);
        OrderedEvent first = OrderedRecords.event(HashChain.GENESIS, events.get(0), T0, null);
        OrderedEvent gap = OrderedRecords.gap(first.getHash(), "ivy", "t-ivy", "run-gap", new Gap(1L, 2L, 5000L,
                "TIMEOUT"), T0.plusSeconds(5));
        OrderedEvent next = OrderedRecords.event(gap.getHash(), events.get(3), T0.plusSeconds(6), null);
        send(first);
        send(gap);
        send(next);

        Result result = replay("--verify", "--user", "ivy");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).contains("FAIL: seqs 1..2 are missing (gap marker, TIMEOUT");
        assertThat(result.lines()).extracting(l -> l.path("kind").asText()).containsExactly("event", "gap", "event");
    }

    @Test
    void shouldShowTheReasonOfEveryDeadLetter() throws Exception {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.CODE, "KEY_USER_MISMATCH".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.MESSAGE, "record key 'x' is not the event's userId 'y'".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.TOPIC, topics.events().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.OFFSET, "42".getBytes(StandardCharsets.UTF_8));
        byte[] value = new AvroSerializer<AgentEvent>(registry, Map.of(), false).serialize(topics.events(),
                run("y", "run-y", T0).get(0));
        producer.send(new ProducerRecord<>(topics.deadLetters(), null, "x".getBytes(StandardCharsets.UTF_8), value,
                headers)).get();
        RecordHeaders garbageHeaders = new RecordHeaders();
        garbageHeaders.add(DeadLetterHeaders.CODE, "UNDECODABLE".getBytes(StandardCharsets.UTF_8));
        producer.send(new ProducerRecord<>(topics.deadLetters(), null, "z".getBytes(StandardCharsets.UTF_8),
                new byte[] {9, 9, 9}, garbageHeaders)).get();

        Result result = replay("--topic", "dlq");

        assertThat(result.lines()).hasSize(2);
        JsonNode mismatch = result.lines().stream().filter(l -> l.path("key").asText().equals("x")).findFirst()
                .orElseThrow();
        assertThat(mismatch.path("kind").asText()).isEqualTo("dead-letter");
        assertThat(mismatch.path("error").path("code").asText()).isEqualTo("KEY_USER_MISMATCH");
        assertThat(mismatch.path("error").path("sourceOffset").asText()).isEqualTo("42");
        assertThat(mismatch.path("event").path("userId").asText()).isEqualTo("y");
        JsonNode garbage = result.lines().stream().filter(l -> l.path("key").asText().equals("z")).findFirst()
                .orElseThrow();
        assertThat(garbage.path("error").path("code").asText()).isEqualTo("UNDECODABLE");
        assertThat(garbage.path("valueBase64").asText()).isEqualTo("CQkJ");
        assertThat(garbage.path("decodeError").asText()).contains("starts with 0x09");
    }

    @Test
    void shouldShowATruncatedDeadLetterWithItsOriginalSizesAndHashes() throws Exception {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.CODE, "OVERSIZED".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.KEY_SIZE, "5".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.KEY_SHA256, "aa".repeat(32).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.VALUE_SIZE, "5000000".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.VALUE_SHA256, "bb".repeat(32).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.HEADERS_DROPPED, "3".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.TRUNCATED, "true".getBytes(StandardCharsets.UTF_8));
        producer.send(new ProducerRecord<>(topics.deadLetters(), null, "carol".getBytes(StandardCharsets.UTF_8),
                new byte[] {0, 0, 0, 0, 1, 2}, headers)).get();

        Result result = replay("--topic", "dlq");

        JsonNode letter = result.lines().get(0);
        assertThat(letter.path("error").path("truncated").asBoolean()).isTrue();
        JsonNode original = letter.path("error").path("original");
        assertThat(original.path("keySize").asLong()).isEqualTo(5);
        assertThat(original.path("valueSize").asLong()).isEqualTo(5_000_000);
        assertThat(original.path("valueSha256").asText()).isEqualTo("bb".repeat(32));
        assertThat(original.path("headersDropped").asInt()).isEqualTo(3);
        assertThat(letter.path("decodeError").asText())
                .isEqualTo("the dead letter holds only the first 6 of 5000000 bytes of the value");
    }

    @Test
    void shouldWriteCsvWithHeaderAndQuotedCells(@TempDir Path dir) throws Exception {
        writeOrdered(run("jo", "run-j", T0));
        Path file = dir.resolve("out.csv");

        Result result = replay("--format", "csv", "--out", file.toString(), "--type", "tool_executing,agent_thinking");

        assertThat(result.code()).isZero();
        List<String> lines = Files.readAllLines(file);
        assertThat(lines.get(0)).isEqualTo(String.join(",", RecordOutput.CSV_COLUMNS));
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2)).contains("tool_executing").contains("\"toolCall {\"\"toolName\"\":\"\"run_sql\"\"");
    }

    @Test
    void shouldRefuseBadInputNamingTheValue() {
        Result time = replay("--from", "yesterday-ish");
        Result format = replay("--format", "xml");

        assertThat(time.code()).isEqualTo(2);
        assertThat(time.err()).contains("'yesterday-ish' is not a time");
        assertThat(format.code()).isEqualTo(2);
        assertThat(format.err()).contains("--format 'xml' is not jsonl or csv");
    }

    @Test
    void shouldWriteAnHtmlReportThatRendersInChromiumWithoutErrors(@TempDir Path dir) throws Exception {
        writeOrdered(run("kim", "run-k1", T0));
        List<AgentEvent> broken = run("kim", "run-k2", T0.plusSeconds(5));
        String prev = HashChain.GENESIS;
        for (AgentEvent event : broken) {
            OrderedEvent ordered = OrderedRecords.event(prev, event, event.getOccurredAt(), null);
            prev = ordered.getHash();
            if (event.getSeq() != 1) {
                send(ordered);
            }
        }
        Path report = dir.resolve("audit.html");

        Result result = replay("--report", report.toString(), "--user", "kim");

        assertThat(result.code()).isEqualTo(1);
        try (Playwright playwright = Playwright.create(); Browser browser = Browsers.chromium(playwright)) {
            List<String> errors = Browsers.errors();
            Page page = Browsers.page(browser, errors);
            page.navigate(report.toUri().toString());
            assertThat(page.textContent("#summary")).isEqualTo("2 runs · 1 verified · 1 failed");
            assertThat(page.locator("#runs tbody tr").count()).isEqualTo(2);
            assertThat(page.locator("#runs tbody tr.bad").textContent()).contains("run-k2");
            assertThat(page.locator("svg.timeline").count()).isEqualTo(2);
            assertThat(page.locator("svg.timeline rect.tool").count()).isEqualTo(2);
            page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "audit-report.png"))
                    .setFullPage(true));
            assertThat(errors).isEmpty();
        }
    }
}
