package dev.agentevents.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class EventPublisherTest {

    private static final AgentInfo AGENT = AgentInfo.newBuilder().setId("a-1").setName("Planner").setVersion("1.2")
            .build();
    private static final PublisherConfig CONFIG = PublisherConfig.of("kafka:9092", "http://registry:8081");

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));
    private final MockProducer<String, AgentEvent> producer = new MockProducer<>(true, null, new StringSerializer(),
            (topic, event) -> new byte[0]);
    private final EventPublisher publisher = EventPublisher.using(producer, CONFIG, clock);

    @Test
    void shouldNumberEventsFromZeroKeyedByUserWithOneTraceAcrossTheRun() throws Exception {
        AgentRun run = publisher.startRun(RunStart.of("alice", "thread-1", AGENT).withRunId("run-1"));
        run.thinking("planning");
        run.toolExecuting("call-1", "web_search", "{\"q\":\"x\"}");
        run.toolCompleted("call-1", "{\"hits\":3}", false);
        Published last = run.completed("{\"answer\":42}", new Usage(10L, 20L, "stop")).get();

        List<ProducerRecord<String, AgentEvent>> sent = producer.history();
        assertThat(sent).extracting(r -> r.value().getSeq()).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(sent).extracting(r -> r.value().getType()).containsExactly("agent_started", "agent_thinking",
                "tool_executing", "tool_completed", "agent_completed");
        assertThat(sent).extracting(ProducerRecord::key).containsOnly("alice");
        assertThat(sent).extracting(ProducerRecord::topic).containsOnly("agent-events");
        assertThat(sent).extracting(r -> r.value().getEventId()).doesNotHaveDuplicates();
        assertThat(sent).extracting(r -> r.value().getTraceId()).containsOnly(sent.get(0).value().getTraceId());
        assertThat(sent.get(0).value().getTraceId()).matches("[0-9a-f]{32}");
        assertThat(last.seq()).isEqualTo(4);
        assertThat(last.type()).isEqualTo("agent_completed");
    }

    @Test
    void shouldSendTraceparentHeaderMatchingTheEventsTraceAndSpan() {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        AgentRun run = publisher.startRun(RunStart.of("bob", "t", AGENT).withTraceId(trace));
        run.toolExecuting("c1", "read_file", "{}");

        ProducerRecord<String, AgentEvent> toolRecord = producer.history().get(1);
        String header = new String(toolRecord.headers().lastHeader("traceparent").value(), StandardCharsets.US_ASCII);

        assertThat(header).isEqualTo("00-" + trace + "-" + toolRecord.value().getSpanId() + "-01");
        assertThat(toolRecord.value().getSpanId()).isNotEqualTo(producer.history().get(0).value().getSpanId());
    }

    @Test
    void shouldMeasureToolDurationFromExecutingToCompleted() {
        AgentRun run = publisher.startRun(RunStart.of("carol", "t", AGENT));
        run.toolExecuting("c1", "run_sql", "{}");
        clock.advance(Duration.ofMillis(1_250));
        run.toolCompleted("c1", "{\"rows\":1}", true);

        AgentEvent completed = producer.history().get(2).value();
        assertThat(completed.getToolResult().getDurationMs()).isEqualTo(1_250);
        assertThat(completed.getToolResult().getIsError()).isTrue();
        assertThat(completed.getToolCallId()).isEqualTo("c1");
        assertThat(completed.getOccurredAt()).isEqualTo(Instant.parse("2026-11-21T10:00:01.250Z"));
    }

    @Test
    void shouldRefuseAnyEventAfterTheTerminalOneNamingTheRun() {
        AgentRun run = publisher.startRun(RunStart.of("dave", "t", AGENT).withRunId("run-9"));
        run.failed("CANCELLED", "user pressed stop");

        assertThatThrownBy(() -> run.thinking("one more thing"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("run run-9 of user dave already ended with agent_failed (seq 1); agent_thinking may "
                        + "not follow it");
        assertThat(run.isEnded()).isTrue();
        assertThat(producer.history()).hasSize(2);
    }

    @Test
    void shouldRefuseToolResultForToolCallThatIsNotExecuting() {
        AgentRun run = publisher.startRun(RunStart.of("erin", "t", AGENT).withRunId("run-3"));
        run.toolExecuting("call-1", "web_search", "{}");

        assertThatThrownBy(() -> run.toolCompleted("call-7", "{}", false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("run run-3 of user erin: tool_completed for tool call 'call-7', which is not executing "
                        + "(executing: [call-1])");
        assertThatThrownBy(() -> run.toolExecuting("call-1", "web_search", "{}"))
                .hasMessage("run run-3 of user erin: tool call 'call-1' is already executing");
    }

    @Test
    void shouldRefuseBlankIdsNamingTheField() {
        assertThatThrownBy(() -> publisher.startRun(RunStart.of(" ", "t", AGENT).withRunId("run-5")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("run run-5: userId must not be blank");
        assertThatThrownBy(() -> publisher.startRun(RunStart.of("fay", null, AGENT)))
                .hasMessage("threadId must not be null");
        AgentRun run = publisher.startRun(RunStart.of("fay", "t", AGENT).withRunId("run-6"));
        assertThatThrownBy(() -> run.toolExecuting("", "x", "{}")).hasMessage("run run-6: toolCallId must not be blank");
        assertThat(producer.history()).hasSize(1);
    }

    @Test
    void shouldRefusePayloadOverTheConfiguredLimitNamingSizeAndLimit() {
        EventPublisher strict = EventPublisher.using(producer, CONFIG.withMaxPayloadBytes(10), clock);
        AgentRun run = strict.startRun(RunStart.of("gus", "t", AGENT).withRunId("run-7"));

        run.thinking("\u00e9\u00e9\u00e9\u00e9\u00e9");
        assertThatThrownBy(() -> run.thinking("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("run run-7 of user gus: agent_thinking text of 12 bytes exceeds the limit of 10 bytes "
                        + "(PUBLISHER_MAX_PAYLOAD_BYTES)");
        assertThat(producer.history()).extracting(r -> r.value().getSeq()).containsExactly(0L, 1L);
    }

    @Test
    void shouldFailTheFutureWithTheEventWhenKafkaDoesNotAcknowledgeAndResendItUnchanged() throws Exception {
        MockProducer<String, AgentEvent> manual = new MockProducer<>(false, null, new StringSerializer(),
                (topic, event) -> new byte[0]);
        EventPublisher slow = EventPublisher.using(manual, CONFIG, clock);
        AgentRun run = slow.startRun(RunStart.of("hana", "t", AGENT).withRunId("run-8"));
        CompletableFuture<Published> thinking = run.thinking("hmm");
        manual.completeNext();
        manual.errorNext(new TimeoutException("Expiring 1 record(s): 120000 ms has passed since batch creation"));

        assertThat(run.started().get().seq()).isZero();
        assertThatThrownBy(thinking::get)
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(PublishException.class)
                .hasMessageContaining("(agent_thinking, seq 1) of run run-8 of user hana was not acknowledged");
        PublishException failure = (PublishException) thinking.handle((p, e) -> e).get();

        CompletableFuture<Published> again = run.resend(failure);
        manual.completeNext();

        assertThat(again.get().eventId()).isEqualTo(failure.event().getEventId());
        assertThat(manual.history()).extracting(r -> r.value().getSeq()).containsExactly(0L, 1L, 1L);
    }

    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
