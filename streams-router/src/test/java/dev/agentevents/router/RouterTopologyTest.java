package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.HashChain;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every rule of the router, driven through its topology with {@code TopologyTestDriver}. */
class RouterTopologyTest {

    private RouterDriver router = new RouterDriver();

    @AfterEach
    void close() {
        router.close();
    }

    private static List<Long> seqs(List<OrderedEvent> ordered) {
        return ordered.stream().map(o -> o.getEvent() != null ? o.getEvent().getSeq() : -1L).toList();
    }

    @Test
    void shouldEmitRunInSeqOrderUnderUserKeyWithUnbrokenHashChain() {
        TestRun run = new TestRun("alice", "run-1");
        List<AgentEvent> events = run.complete();

        router.sendAll(events);

        List<TestRecord<String, OrderedEvent>> out = router.ordered.readRecordsToList();
        assertThat(out).extracting(TestRecord::key).containsOnly("alice");
        assertThat(out).extracting(r -> r.value().getEvent()).containsExactlyElementsOf(events);
        String previous = HashChain.GENESIS;
        for (TestRecord<String, OrderedEvent> record : out) {
            OrderedEvent ordered = record.value();
            assertThat(ordered.getKind()).isEqualTo("event");
            assertThat(ordered.getPrevHash()).isEqualTo(previous);
            assertThat(ordered.getHash()).isEqualTo(HashChain.next(previous, "event", ordered.getEvent()));
            assertThat(ordered.getSource().getTopic()).isEqualTo("agent-events");
            previous = ordered.getHash();
        }
        assertThat(router.deadLetters()).isEmpty();
    }

    @Test
    void shouldCarryTheEventsTraceContextAsTraceparentHeaderOnlyWhenItIsWellFormed() {
        TestRun run = new TestRun("tess", "run-traced");
        router.send(run.started());
        router.send(AgentEvent.newBuilder(run.thinking(1)).setTraceId("4BF92F3577B34DA6A3CE929D0E0E4736").build());
        router.send(AgentEvent.newBuilder(run.thinking(2)).setSpanId("00f067aa0ba902b").build());
        router.send(AgentEvent.newBuilder(run.thinking(3)).setTraceId(null).build());

        List<TestRecord<String, OrderedEvent>> out = router.ordered.readRecordsToList();
        assertThat(out).hasSize(4);
        assertThat(new String(out.get(0).headers().lastHeader("traceparent").value(), StandardCharsets.US_ASCII))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertThat(out.subList(1, 4)).allSatisfy(record -> assertThat(record.headers().lastHeader("traceparent"))
                .as("seq %d", record.value().getEvent().getSeq()).isNull());
    }

    @Test
    void shouldHoldEarlyEventsAndReleaseThemInSeqOrder() {
        TestRun run = new TestRun("bob", "run-2");
        List<AgentEvent> events = new ArrayList<>(run.complete());
        Collections.shuffle(events, new Random(3));
        AgentEvent start = events.remove(indexOfSeq(events, 0));

        router.sendAll(events);
        assertThat(router.ordered()).isEmpty();
        assertThat(count(router.pending())).isEqualTo(5);
        router.send(start);

        assertThat(seqs(router.ordered())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(router.pending().all().hasNext()).isFalse();
    }

    private static long count(org.apache.kafka.streams.state.KeyValueStore<?, ?> store) {
        long n = 0;
        try (var it = store.all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    private static int indexOfSeq(List<AgentEvent> events, long seq) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).getSeq() == seq) {
                return i;
            }
        }
        throw new AssertionError("no seq " + seq);
    }

    @Test
    void shouldDropRepeatedEventIdAndAlreadyEmittedSeqAndCountThem() {
        TestRun run = new TestRun("carol", "run-3");
        AgentEvent start = run.started();
        AgentEvent thinking = run.thinking(1);

        router.send(start);
        router.send(thinking);
        router.send(thinking);
        router.send(run.thinking(1));
        router.send(start);
        router.send(run.thinking(3));
        router.send(run.thinking(3));

        assertThat(seqs(router.ordered())).containsExactly(0L, 1L);
        assertThat(router.deadLetters()).isEmpty();
        assertThat(router.metrics.registry().find("router.events.dropped").tag("kind", "duplicate_event_id")
                .counter().count()).isEqualTo(2);
        assertThat(router.metrics.registry().find("router.events.dropped").tag("kind", "duplicate_seq")
                .counter().count()).isEqualTo(2);
    }

    @Test
    void shouldSendKeyUserMismatchToDeadLettersWithOriginalBytesAndReasonHeaders() {
        TestRun run = new TestRun("dave", "run-4");
        AgentEvent start = run.started();
        byte[] value = router.bytes(start);

        router.sendRaw("mallory".getBytes(StandardCharsets.UTF_8), value);

        assertThat(router.ordered()).isEmpty();
        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(dead.key()).isEqualTo("mallory".getBytes(StandardCharsets.UTF_8));
        assertThat(dead.value()).isEqualTo(value);
        assertThat(RouterDriver.code(dead)).isEqualTo("KEY_USER_MISMATCH");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE))
                .isEqualTo("record key 'mallory' is not the event's userId 'dave'");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.TOPIC)).isEqualTo("agent-events");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.PARTITION)).isEqualTo("0");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.OFFSET)).isEqualTo("0");
        assertThat(Long.parseLong(RouterDriver.header(dead, DeadLetterHeaders.TIME)))
                .isEqualTo(RouterDriver.START.toEpochMilli());
        assertThat(router.metrics.rejectedCount(RejectReason.KEY_USER_MISMATCH)).isEqualTo(1);
    }

    @Test
    void shouldRejectEachMalformedEventWithItsOwnReason() {
        TestRun run = new TestRun("erin", "run-5");
        router.send(run.started());
        router.send(run.base(1, "agent_thinking").setEventId(" ").build());
        router.send(run.base(1, "agent_dreaming").build());
        router.send(run.base(-3, "agent_thinking").build());
        router.send(run.base(1, "agent_thinking").build());
        router.send(run.base(1, "tool_executing").setToolCall(new dev.agentevents.event.ToolCall("x", "{}")).build());
        router.send(run.base(1, "agent_thinking").setRunId("r".repeat(600)).build());
        router.send(run.base(0, "agent_thinking").setRunId("run-5b").setThinking(new dev.agentevents.event.Thinking("x"))
                .build());
        router.send(run.base(2, "agent_started").setRunId("run-5c").build());
        router.send(run.base(1, "agent_thinking").setThreadId("another-thread")
                .setThinking(new dev.agentevents.event.Thinking("x")).build());

        assertThat(router.deadLetters()).extracting(RouterDriver::code).containsExactly("MISSING_FIELD",
                "UNKNOWN_TYPE", "INVALID_SEQ", "MISSING_PAYLOAD", "MISSING_PAYLOAD", "ID_TOO_LONG", "INVALID_SEQ",
                "INVALID_SEQ", "THREAD_MISMATCH");
        assertThat(seqs(router.ordered())).containsExactly(0L);
    }

    @Test
    void shouldRejectToolCompletedWithoutOpenToolCallAndMarkItsSeqAsGap() {
        TestRun run = new TestRun("fay", "run-6");
        router.send(run.started());
        router.send(run.toolCompleted(1, "call-9"));
        router.send(run.thinking(2));

        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("event", "gap", "event");
        assertThat(out.get(1).getGap().getFromSeq()).isEqualTo(1);
        assertThat(out.get(1).getGap().getToSeq()).isEqualTo(1);
        assertThat(out.get(1).getGap().getReason()).isEqualTo("REJECTED");
        assertThat(out.get(1).getPrevHash()).isEqualTo(out.get(0).getHash());
        assertThat(out.get(2).getPrevHash()).isEqualTo(out.get(1).getHash());
        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("INVALID_TRANSITION");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE))
                .isEqualTo("tool_completed (seq 1) for tool call 'call-9', which is not executing in run 'run-6' "
                        + "(executing: [])");
    }

    @Test
    void shouldRejectToolCompletedThatArrivesBeforeItsToolExecutingOnlyIfExecutingNeverComes() {
        TestRun run = new TestRun("gus", "run-7");
        router.send(run.started());
        router.send(run.toolCompleted(2, "call-1"));
        router.send(run.toolExecuting(1, "call-1"));

        assertThat(seqs(router.ordered())).containsExactly(0L, 1L, 2L);
        assertThat(router.deadLetters()).isEmpty();
    }

    @Test
    void shouldRejectEverythingAfterTheTerminalEventIncludingEventsHeldForLater() {
        TestRun run = new TestRun("hana", "run-8");
        AgentEvent completed = run.completed(1);
        router.send(run.started());
        router.send(run.thinking(3));
        router.send(completed);
        router.send(run.thinking(2));
        router.send(completed);
        router.send(run.failed(1));

        assertThat(seqs(router.ordered())).containsExactly(0L, 1L);
        // seq 3 was held when the run ended; seq 2 came after; the resent terminal event is a duplicate, but a
        // different event at the terminal's seq is not
        assertThat(router.deadLetters()).extracting(RouterDriver::code)
                .containsExactly("AFTER_TERMINAL", "AFTER_TERMINAL", "AFTER_TERMINAL");
        assertThat(router.pending().all().hasNext()).isFalse();
    }

    @Test
    void shouldRejectSecondAgentStarted() {
        TestRun run = new TestRun("ivan", "run-9");
        router.send(run.started());
        router.send(run.thinking(1));
        router.send(run.started());

        assertThat(router.deadLetters()).extracting(RouterDriver::code).containsExactly("DUPLICATE_START");
    }

    @Test
    void shouldRejectRecordOverTheSizeLimitButAcceptOneAtIt() {
        router.close();
        router = new RouterDriver(Map.of("ROUTER_MAX_EVENT_BYTES", "1000"));
        TestRun run = new TestRun("judy", "run-10");
        router.send(run.started());
        AgentEvent.Builder big = run.base(1, "agent_thinking");
        int baseSize = router.bytes(big.setThinking(new dev.agentevents.event.Thinking("")).build()).length;
        // a string of n ASCII chars adds n bytes plus a varint length; aim for exactly 1000 bytes
        String atLimit = "x".repeat(1000 - baseSize - 1);
        AgentEvent exactly = run.base(1, "agent_thinking").setThinking(new dev.agentevents.event.Thinking(atLimit))
                .build();
        assertThat(router.bytes(exactly)).hasSize(1000);
        AgentEvent over = run.base(2, "agent_thinking").setThinking(new dev.agentevents.event.Thinking(atLimit + "x"))
                .build();

        router.send(exactly);
        router.send(over);

        assertThat(seqs(router.ordered())).containsExactly(0L, 1L);
        TestRecord<byte[], byte[]> dead = router.deadLetters().get(0);
        assertThat(RouterDriver.code(dead)).isEqualTo("OVERSIZED");
        assertThat(RouterDriver.header(dead, DeadLetterHeaders.MESSAGE))
                .isEqualTo("record of 1001 bytes exceeds ROUTER_MAX_EVENT_BYTES 1000");
    }

    @Test
    void shouldSkipUndecodableBytesWithReasonAndGoOnWithTheNextRecord() {
        // Kafka Streams writes these to the dead-letter topic itself; TopologyTestDriver does not carry such
        // records, so RouterIntegrationTest checks their bytes and headers on a real broker.
        TestRun run = new TestRun("kim", "run-11");
        byte[] good = router.bytes(run.started());
        byte[] unknownId = good.clone();
        java.nio.ByteBuffer.wrap(unknownId).putInt(1, 999_999);
        byte[] key = "kim".getBytes(StandardCharsets.UTF_8);

        router.sendRaw(key, new byte[] {1, 2, 3, 4, 5, 6, 7});
        router.sendRaw(key, unknownId);
        router.sendRaw(key, Arrays.copyOf(good, good.length - 7));
        router.sendRaw(key, good);

        assertThat(router.metrics.rejectedCount(RejectReason.UNDECODABLE)).isEqualTo(2);
        assertThat(router.metrics.rejectedCount(RejectReason.UNKNOWN_SCHEMA_ID)).isEqualTo(1);
        assertThat(seqs(router.ordered())).containsExactly(0L);
    }

    @Test
    void shouldEmitGapMarkerAfterTimeoutThenRejectTheLateArrival() {
        TestRun run = new TestRun("leo", "run-12");
        router.send(run.started());
        router.send(run.thinking(3));
        router.send(run.thinking(4));

        router.advance(Duration.ofSeconds(2));
        assertThat(router.ordered()).hasSize(1);
        router.advance(Duration.ofSeconds(4));

        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("gap", "event", "event");
        assertThat(out.get(0).getGap().getFromSeq()).isEqualTo(1);
        assertThat(out.get(0).getGap().getToSeq()).isEqualTo(2);
        assertThat(out.get(0).getGap().getReason()).isEqualTo("TIMEOUT");
        assertThat(out.get(0).getGap().getWaitedMs()).isGreaterThanOrEqualTo(5000);
        router.send(run.thinking(2));
        assertThat(router.deadLetters()).extracting(RouterDriver::code).containsExactly("LATE");
    }

    @Test
    void shouldDeliverToolCompletedWhoseToolExecutingWasLostInAGap() {
        // found by the long fault run: the publisher's send of tool_executing failed during a broker outage, and
        // the tool's result, acknowledged to the agent, went to the dead letters with the gap
        TestRun run = new TestRun("lou", "run-12b");
        router.send(run.started());
        router.send(run.toolCompleted(2, "call-7"));
        router.send(run.thinking(3));
        router.advance(Duration.ofSeconds(6));

        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("event", "gap", "event", "event");
        assertThat(out.get(1).getGap().getReason()).isEqualTo("TIMEOUT");
        assertThat(out.get(2).getEvent().getType()).isEqualTo("tool_completed");
        assertThat(out.get(2).getEvent().getSeq()).isEqualTo(2);
        assertThat(router.deadLetters()).isEmpty();
    }

    @Test
    void shouldStopWaitingWhenTooManyEventsAreHeld() {
        router.close();
        router = new RouterDriver(Map.of("ROUTER_MAX_PENDING_PER_RUN", "3"));
        TestRun run = new TestRun("mia", "run-13");
        router.send(run.started());
        for (long seq = 5; seq <= 8; seq++) {
            router.send(run.thinking(seq));
        }

        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(OrderedEvent::getKind).containsExactly("event", "gap", "event", "event", "event",
                "event");
        assertThat(out.get(1).getGap().getReason()).isEqualTo("BUFFER_FULL");
        assertThat(out.get(1).getGap().getFromSeq()).isEqualTo(1);
        assertThat(out.get(1).getGap().getToSeq()).isEqualTo(4);
    }

    @Test
    void shouldCloseIdleRunWithAbandonedFailureSoNoSpinnerWaitsForever() {
        router.close();
        router = new RouterDriver(Map.of("ROUTER_ABANDON_AFTER_MS", "60000"));
        TestRun run = new TestRun("ned", "run-14");
        router.send(run.started());
        router.send(run.toolExecuting(1, "call-1"));

        router.advance(Duration.ofSeconds(59));
        assertThat(router.ordered()).hasSize(2);
        router.advance(Duration.ofSeconds(2));

        List<OrderedEvent> out = router.ordered();
        assertThat(out).hasSize(1);
        AgentEvent failed = out.get(0).getEvent();
        assertThat(failed.getType()).isEqualTo("agent_failed");
        assertThat(failed.getSeq()).isEqualTo(2);
        assertThat(failed.getFailed().getCode()).isEqualTo("ABANDONED");
        assertThat(failed.getAgent().getName()).isEqualTo("Researcher");
        assertThat(out.get(0).getSource()).isNull();
        router.send(run.toolCompleted(2, "call-1"));
        assertThat(router.deadLetters()).extracting(RouterDriver::code).containsExactly("AFTER_TERMINAL");
    }

    @Test
    void shouldAbandonARunOnlyAfterSilenceSinceItsLastEventNotItsFirst() {
        router.close();
        router = new RouterDriver(Map.of("ROUTER_ABANDON_AFTER_MS", "60000"));
        TestRun run = new TestRun("nina", "run-busy");
        router.send(run.started());
        for (long seq = 1; seq <= 3; seq++) {
            router.advance(Duration.ofSeconds(40));
            router.send(run.thinking(seq));
        }
        // 120 s after the start, 0 s after the last event: the sweep looked at the run at 60 s and left it open
        assertThat(router.ordered()).extracting(o -> o.getEvent().getType())
                .containsExactly("agent_started", "agent_thinking", "agent_thinking", "agent_thinking");

        router.advance(Duration.ofSeconds(59));
        assertThat(router.ordered()).isEmpty();
        router.advance(Duration.ofSeconds(2));
        assertThat(router.ordered()).extracting(o -> o.getEvent().getFailed().getCode()).containsExactly("ABANDONED");
    }

    @Test
    void shouldNeitherAbandonNorGiveUpWhileTheInputHasNotBeenReadUpToTheDeadline() {
        router.close();
        // the router has read its input only up to the start (restarted, stalled, cut off or behind)
        java.util.concurrent.atomic.AtomicLong readUpTo = new java.util.concurrent.atomic.AtomicLong(
                RouterDriver.START.toEpochMilli());
        router = new RouterDriver(Map.of("ROUTER_ABANDON_AFTER_MS", "60000"), partition -> readUpTo.get());
        TestRun quiet = new TestRun("olga", "run-quiet");
        TestRun holey = new TestRun("pavel", "run-holey");
        router.send(quiet.started());
        router.send(holey.started());
        router.send(holey.thinking(2));

        router.advance(Duration.ofMinutes(10));
        assertThat(router.ordered()).extracting(OrderedEvent::getKind).containsExactly("event", "event");

        // the backlog arrives: the real events, not a router-made failure, and no gap
        router.send(quiet.thinking(1));
        router.send(holey.thinking(1));
        router.send(quiet.completed(2));
        assertThat(router.ordered()).extracting(o -> o.getEvent().getSeq()).containsExactly(1L, 1L, 2L, 2L);
        assertThat(router.deadLetters()).isEmpty();

        // a minute later, still unread: nothing; once the input is read past the deadline, the idle run is closed
        router.advance(Duration.ofSeconds(61));
        assertThat(router.ordered()).isEmpty();
        readUpTo.set(RouterDriver.START.plus(Duration.ofMinutes(20)).toEpochMilli());
        router.advance(Duration.ofSeconds(1));
        List<OrderedEvent> out = router.ordered();
        assertThat(out).extracting(o -> o.getEvent().getFailed().getCode()).containsExactly("ABANDONED");
        assertThat(out.get(0).getRunId()).isEqualTo("run-holey");
    }

    @Test
    void shouldForgetFinishedRunAfterGracePeriod() {
        router.close();
        router = new RouterDriver(Map.of("ROUTER_RUN_GRACE_MS", "30000"));
        TestRun run = new TestRun("olga", "run-15");
        router.sendAll(run.complete());
        TestRun open = new TestRun("olga", "run-16");
        router.send(open.started());
        assertThat(count(router.runs())).isEqualTo(2);

        router.advance(Duration.ofSeconds(31));

        assertThat(router.runs().get(RunState.runKey("olga", "run-15"))).isNull();
        assertThat(router.runs().get(RunState.runKey("olga", "run-16"))).isNotNull();
    }

    @Test
    void shouldKeepRunsOfDifferentUsersAndRunsApart() {
        TestRun a = new TestRun("pat", "shared-run-id");
        TestRun b = new TestRun("quinn", "shared-run-id");
        router.send(a.started());
        router.send(b.started());
        router.send(b.thinking(1));
        router.send(a.thinking(1));

        List<TestRecord<String, OrderedEvent>> out = router.ordered.readRecordsToList();
        assertThat(out).extracting(TestRecord::key).containsExactly("pat", "quinn", "quinn", "pat");
        assertThat(out).allMatch(r -> r.key().equals(r.value().getEvent().getUserId()));
    }
}
