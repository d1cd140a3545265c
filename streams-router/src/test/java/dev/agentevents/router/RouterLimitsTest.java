package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Completed;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolResult;
import dev.agentevents.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each limit on what producers control, with its reason code, through the topology in a TopologyTestDriver. */
class RouterLimitsTest {

    private RouterDriver router;

    @AfterEach
    void close() {
        if (router != null) {
            router.close();
        }
    }

    private RouterDriver router(String... settings) {
        Map<String, String> overrides = new HashMap<>();
        for (int i = 0; i < settings.length; i += 2) {
            overrides.put(settings[i], settings[i + 1]);
        }
        router = new RouterDriver(overrides);
        return router;
    }

    private static List<String> codes(List<TestRecord<byte[], byte[]>> deadLetters) {
        return deadLetters.stream().map(RouterDriver::code).toList();
    }

    @Test
    void shouldRejectAKeyOverTheIdLimitAndQuoteNoneOfIt() {
        router();
        TestRun run = new TestRun("kim", "run-k");
        byte[] key = "k".repeat(600).getBytes(StandardCharsets.UTF_8);
        router.sendRaw(key, router.bytes(run.started()));

        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("KEY_TOO_LONG");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE))
                .isEqualTo("record key of 600 bytes exceeds ROUTER_MAX_ID_BYTES 512");
        assertThat(dead.key()).isEqualTo(key);
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.KEY_SIZE)).isEqualTo("600");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.KEY_SHA256)).isEqualTo(DeadLetters.sha256(key));
        assertThat(router.ordered()).isEmpty();
        assertThat(router.metrics.rejectedCount(RejectReason.KEY_TOO_LONG)).isEqualTo(1);
    }

    @Test
    void shouldRejectEveryIdAndAgentStringOverTheLimitNamingTheField() {
        router("ROUTER_MAX_ID_BYTES", "100");
        TestRun run = new TestRun("lee", "run-l");
        String longId = "é".repeat(51); // 102 bytes in UTF-8, 51 characters
        router.send(run.base(0, "agent_started").setParentRunId(longId).build());
        router.send(run.base(0, "agent_started").setTraceId(longId).build());
        router.send(run.base(0, "agent_started").setAgent(dev.agentevents.event.AgentInfo.newBuilder(run.started().getAgent()).setModel(longId)
                .build()).build());
        router.send(run.started());
        router.send(run.toolExecuting(1, longId));

        List<TestRecord<byte[], byte[]>> dead = router.deadLetters();
        assertThat(codes(dead)).containsExactly("ID_TOO_LONG", "ID_TOO_LONG", "ID_TOO_LONG", "ID_TOO_LONG");
        assertThat(dead).extracting(d -> RouterDriver.header(d, DeadLetterHeaders.MESSAGE)).containsExactly(
                "parentRunId has 102 bytes (UTF-8); at most 100 are allowed (ROUTER_MAX_ID_BYTES)",
                "traceId has 102 bytes (UTF-8); at most 100 are allowed (ROUTER_MAX_ID_BYTES)",
                "agent.model has 102 bytes (UTF-8); at most 100 are allowed (ROUTER_MAX_ID_BYTES)",
                "toolCallId has 102 bytes (UTF-8); at most 100 are allowed (ROUTER_MAX_ID_BYTES)");
        assertThat(router.ordered()).extracting(o -> o.getEvent().getType()).containsExactly("agent_started");
    }

    @Test
    void shouldRejectSeqsABrowserCannotHoldButAcceptATerminalEventAtTheLargestSafeSeq() {
        router("ROUTER_GAP_TIMEOUT_MS", "1000");
        TestRun run = new TestRun("max", "run-m");
        Instant now = RouterDriver.START;
        long safe = RouterLimits.MAX_SAFE_NUMBER;
        router.send(run.started());
        router.send(run.base(Long.MAX_VALUE, "agent_thinking").setOccurredAt(now).setThinking(new Thinking("x"))
                .build());
        router.send(run.base(safe + 1, "agent_completed").setOccurredAt(now).setCompleted(new Completed("{}", null,
                null, "stop")).build());
        router.send(run.base(safe, "agent_thinking").setOccurredAt(now).setThinking(new Thinking("x")).build());
        AgentEvent last = run.base(safe, "agent_completed").setOccurredAt(now)
                .setCompleted(new Completed("{}", null, null, "stop")).build();
        router.send(last);
        router.advance(Duration.ofSeconds(2));

        assertThat(codes(router.deadLetters())).containsExactly("INVALID_SEQ", "INVALID_SEQ", "INVALID_SEQ");
        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("event", "gap", "event");
        assertThat(out.get(1).getGap().getFromSeq()).isEqualTo(1);
        assertThat(out.get(1).getGap().getToSeq()).isEqualTo(safe - 1);
        assertThat(out.get(2).getEvent()).isEqualTo(last);
    }

    @Test
    void shouldRejectNegativeOrUnrepresentableNumbers() {
        router();
        TestRun run = new TestRun("nia", "run-n");
        router.send(run.started());
        router.send(run.toolExecuting(1, "call-1"));
        router.send(run.base(2, "tool_completed").setToolCallId("call-1")
                .setToolResult(new ToolResult("{}", false, -5L)).build());
        router.send(run.base(2, "agent_completed").setCompleted(new Completed("{}", RouterLimits.MAX_SAFE_NUMBER + 1,
                3L, "stop")).build());
        router.send(run.base(2, "agent_thinking").setThinking(new Thinking("x")).setOccurredAt(Instant.ofEpochMilli(-1))
                .build());
        router.send(run.toolCompleted(2, "call-1"));

        List<TestRecord<byte[], byte[]>> dead = router.deadLetters();
        assertThat(codes(dead)).containsExactly("INVALID_NUMBER", "INVALID_NUMBER", "INVALID_NUMBER");
        assertThat(RouterDriver.header(dead.get(0), DeadLetterHeaders.MESSAGE))
                .isEqualTo("toolResult.durationMs -5 is outside 0..9007199254740991");
        assertThat(router.ordered()).extracting(o -> o.getEvent().getSeq()).containsExactly(0L, 1L, 2L);
    }

    @Test
    void shouldRefuseAToolCallBeyondTheOpenCallLimitAndLetTheRunGoOn() {
        router("ROUTER_MAX_OPEN_CALLS_PER_RUN", "2");
        TestRun run = new TestRun("oli", "run-o");
        router.send(run.started());
        router.send(run.toolExecuting(1, "a"));
        router.send(run.toolExecuting(2, "b"));
        router.send(run.toolExecuting(3, "c"));
        router.send(run.toolCompleted(4, "a"));
        router.send(run.toolExecuting(5, "d"));
        router.send(run.completed(6));

        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("TOO_MANY_OPEN_CALLS");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE)).isEqualTo("tool_executing (seq 3) of run"
                + " 'run-o' while 2 calls are executing (ROUTER_MAX_OPEN_CALLS_PER_RUN 2)");
        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind)
                .containsExactly("event", "event", "event", "gap", "event", "event", "event");
        assertThat(out.get(3).getGap().getReason()).isEqualTo("REJECTED");
    }

    @Test
    void shouldRefuseRunsBeyondTheUserLimitUntilOneEndsOrIsAbandoned() {
        router("ROUTER_MAX_OPEN_RUNS_PER_USER", "2", "ROUTER_ABANDON_AFTER_MS", "10000");
        TestRun first = new TestRun("pat", "run-1");
        TestRun second = new TestRun("pat", "run-2");
        TestRun third = new TestRun("pat", "run-3");
        TestRun otherUser = new TestRun("quinn", "run-q");
        router.send(first.started());
        router.send(second.started());
        router.send(third.started());
        router.send(third.thinking(1));
        router.send(otherUser.started());

        assertThat(codes(router.deadLetters())).containsExactly("TOO_MANY_OPEN_RUNS", "TOO_MANY_OPEN_RUNS");

        router.send(first.completed(1));
        TestRun fourth = new TestRun("pat", "run-4");
        router.send(fourth.started());
        router.send(new TestRun("pat", "run-5").started());
        assertThat(codes(router.deadLetters())).containsExactly("TOO_MANY_OPEN_RUNS");

        router.advance(Duration.ofSeconds(11)); // run-2 and run-4 are abandoned: their slots are free again
        router.send(new TestRun("pat", "run-6").started());
        assertThat(router.deadLetters()).isEmpty();
        assertThat(router.ordered()).extracting(o -> o.getRunId() + ":" + o.getEvent().getType()).containsExactly(
                "run-1:agent_started", "run-2:agent_started", "run-q:agent_started", "run-1:agent_completed",
                "run-4:agent_started", "run-2:agent_failed", "run-4:agent_failed", "run-q:agent_failed",
                "run-6:agent_started");
    }

    @Test
    void shouldRefuseATooManyOpenRunsMessageThatNamesTheUserAndTheLimit() {
        router("ROUTER_MAX_OPEN_RUNS_PER_USER", "1");
        router.send(new TestRun("rae", "run-1").started());
        router.send(new TestRun("rae", "run-2").started());

        assertThat(RouterDriver.header(router.deadLetters().get(0), DeadLetterHeaders.MESSAGE)).isEqualTo(
                "user 'rae' already has 1 runs that have not ended (ROUTER_MAX_OPEN_RUNS_PER_USER 1); run 'run-2' is"
                        + " refused");
    }

    @Test
    void shouldRefuseAToolCallThatWouldMakeTheRunStateTooLarge() {
        router("ROUTER_MAX_RUN_STATE_BYTES", "4096");
        TestRun run = new TestRun("sam", "run-s");
        router.send(run.started());
        long seq = 1;
        while (router.deadLetters.isEmpty() && seq < 20) {
            router.send(run.toolExecuting(seq, "call-" + seq + "-" + "x".repeat(480)));
            seq++;
        }

        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("STATE_TOO_LARGE");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE))
                .startsWith("tool_executing (seq " + (seq - 1) + ") of run 'run-s' would make its state ")
                .endsWith(" bytes (ROUTER_MAX_RUN_STATE_BYTES 4096)");
        byte[] state = router.runs().get(RunState.runKey("sam", "run-s"));
        assertThat(state.length).isLessThanOrEqualTo(4096);
        assertThat((long) state.length).isEqualTo(RunState.decode(state).encodedSize());
    }

    @Test
    void shouldStopWaitingOnceHeldEventsExceedTheirByteLimit() {
        router("ROUTER_MAX_PENDING_BYTES_PER_RUN", "20000");
        TestRun run = new TestRun("tia", "run-t");
        router.send(run.started());
        for (long seq = 2; seq <= 5; seq++) {
            router.send(run.base(seq, "agent_thinking").setThinking(new Thinking("y".repeat(6000))).build());
        }

        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("event", "gap", "event", "event", "event",
                "event");
        assertThat(out.get(1).getGap().getReason()).isEqualTo("BUFFER_FULL");
        assertThat(router.pending().all().hasNext()).isFalse();
    }

    @Test
    void shouldCloseAtMostMaxSweepRunsPerSweepSoLiveRunsAreNotHeldUp() {
        router("ROUTER_MAX_SWEEP_RUNS", "10", "ROUTER_ABANDON_AFTER_MS", "1000");
        for (int i = 0; i < 35; i++) {
            router.send(new TestRun("idle-" + i, "run-" + i).started());
        }
        router.ordered();

        int[] closedPerSweep = new int[5];
        for (int sweep = 0; sweep < 5; sweep++) {
            router.advance(Duration.ofSeconds(2));
            closedPerSweep[sweep] = router.ordered().size();
        }
        assertThat(closedPerSweep).containsExactly(10, 10, 10, 5, 0);
        assertThat(router.openRuns().all().hasNext()).isFalse();
    }

    @Test
    void shouldStoreADeadLetterOverTheBudgetTruncatedWithItsOriginalSizesAndHashes() {
        router("ROUTER_MAX_EVENT_BYTES", "40000", "ROUTER_MAX_DEAD_LETTER_BYTES", "16384");
        TestRun run = new TestRun("uma", "run-u");
        byte[] value = router.bytes(run.base(0, "agent_started").setThinking(new Thinking("z".repeat(60_000)))
                .build());
        router.sendRaw("uma".getBytes(StandardCharsets.UTF_8), value);

        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("OVERSIZED");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.VALUE_SIZE)).isEqualTo(Integer.toString(value.length));
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.VALUE_SHA256)).isEqualTo(DeadLetters.sha256(value));
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.KEY_SIZE)).isEqualTo("3");
        assertThat(dead.key()).isEqualTo("uma".getBytes(StandardCharsets.UTF_8));
        assertThat(value).startsWith(dead.value());
        assertThat(new DeadLetters.Letter(dead.key(), dead.value(), dead.headers()).size()).isLessThanOrEqualTo(16384);
    }

    @Test
    void shouldDeadLetterAnInputWhoseOutputKafkaRefusedAsASmallWriteFailedRecord() {
        router();
        TestRun run = new TestRun("vic", "run-v");
        router.send(run.started());
        router.errors.writeRefused("agent-events", 0, 1); // as the production handler does before the retry
        router.send(run.base(1, "agent_thinking").setThinking(new Thinking("w".repeat(100_000))).build());
        router.send(run.base(1, "agent_thinking").setThinking(new Thinking("again")).build());

        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("WRITE_FAILED");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.OFFSET)).isEqualTo("1");
        assertThat(new DeadLetters.Letter(dead.key(), dead.value(), dead.headers()).size())
                .isLessThanOrEqualTo(RouterLimits.MIN_DEAD_LETTER_BYTES);
        assertThat(router.ordered()).extracting(o -> o.getEvent().getSeq()).containsExactly(0L, 1L);
    }

    @Test
    void shouldRefuseToStartWhenADeadLetterCouldExceedTheProducersRequestSize() {
        Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", "SCHEMA_REGISTRY_URL",
                "http://localhost:8081", "ROUTER_MAX_DEAD_LETTER_BYTES", "2000000");
        assertThatThrownBy(() -> RouterConfig.fromEnv(env)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ROUTER_MAX_DEAD_LETTER_BYTES 2000000 leaves no room under the producer's"
                        + " max.request.size 1048576 (at most 1047552)");
        Map<String, String> bigEvents = Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", "SCHEMA_REGISTRY_URL",
                "http://localhost:8081", "ROUTER_MAX_EVENT_BYTES", "1048576");
        assertThatThrownBy(() -> RouterConfig.fromEnv(bigEvents)).hasMessageStartingWith(
                "ROUTER_MAX_EVENT_BYTES 1048576 with ROUTER_MAX_ID_BYTES 512 allows ordered records of 1054720 bytes,"
                        + " more than the producer's max.request.size 1048576");
    }
}
