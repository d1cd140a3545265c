package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.router.RouterMetrics.WriteFailure;
import dev.agentevents.schemas.DeadLetterHeaders;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Response;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterProductionExceptionHandlerTest {

    private final RouterMetrics metrics = RouterMetrics.discarding();
    private final RouterErrors errors = new RouterErrors(metrics, 512 * 1024, "agent-events-dlq");
    private final RouterProductionExceptionHandler handler = new RouterProductionExceptionHandler();

    /** The context of the input at agent-events/2@77 while the stream thread processes it. */
    private static final ErrorHandlerContext INPUT = new ErrorHandlerContext() {
        @Override public String topic() { return "agent-events"; }
        @Override public int partition() { return 2; }
        @Override public long offset() { return 77; }
        @Override public org.apache.kafka.common.header.Headers headers() { return new RecordHeaders(); }
        @Override public String processorNodeId() { return "dead-letter-sink"; }
        @Override public TaskId taskId() { return new TaskId(0, 2); }
        @Override public long timestamp() { return 1; }
        @Override public byte[] sourceRawKey() { return null; }
        @Override public byte[] sourceRawValue() { return null; }
    };

    @BeforeEach
    void configure() {
        handler.configure(Map.of(RouterErrors.CONFIG_KEY, errors));
    }

    @Test
    void shouldRetryWhatKafkaRetries() {
        Response response = handler.handleError(INPUT, new ProducerRecord<>("agent-events-ordered", new byte[1],
                new byte[1]), new NotEnoughReplicasException("down"));
        assertThat(response.result()).isEqualTo(Result.RETRY);
        assertThat(errors.refusals("agent-events", 2, 77)).isZero();
    }

    @Test
    void shouldResumeWithASmallDeadLetterAndRememberTheInputWhenARecordIsTooLarge() {
        byte[] value = new byte[3_000_000];
        Response response = handler.handleError(INPUT, new ProducerRecord<>("agent-events-ordered", "u".getBytes(),
                value), new RecordTooLargeException("The message is 3000100 bytes"));

        assertThat(response.result()).isEqualTo(Result.RESUME);
        List<ProducerRecord<byte[], byte[]>> letters = response.deadLetterQueueRecords();
        assertThat(letters).hasSize(1);
        ProducerRecord<byte[], byte[]> letter = letters.get(0);
        assertThat(letter.topic()).isEqualTo("agent-events-dlq");
        assertThat(DeadLetterHeaders.text(letter.headers(), DeadLetterHeaders.CODE)).hasValue("WRITE_FAILED");
        assertThat(DeadLetterHeaders.text(letter.headers(), DeadLetterHeaders.OFFSET)).hasValue("77");
        assertThat(DeadLetterHeaders.text(letter.headers(), DeadLetterHeaders.VALUE_SIZE)).hasValue("3000000");
        assertThat(new DeadLetters.Letter(letter.key(), letter.value(), letter.headers()).size())
                .isLessThanOrEqualTo(RouterLimits.MIN_DEAD_LETTER_BYTES);
        assertThat(errors.refusals("agent-events", 2, 77)).isEqualTo(1);
        assertThat(metrics.writeFailures(WriteFailure.TOO_LARGE)).isEqualTo(1);
    }

    @Test
    void shouldTakeTheInputOfARefusedDeadLetterFromItsHeadersAndNotDeadLetterItsOwnStub() {
        DeadLetters.Letter refused = DeadLetters.build(new byte[1], new byte[900_000], null,
                DeadLetters.Cause.of(RejectReason.OVERSIZED, "big"), new DeadLetters.Origin("agent-events", 5, 9), 1,
                1_000_000);
        Response first = handler.handleError(INPUT, refused.toProducerRecord("agent-events-dlq", 1),
                new RecordTooLargeException("broker says no"));
        assertThat(errors.refusals("agent-events", 5, 9)).isEqualTo(1);
        assertThat(errors.refusals("agent-events", 2, 77)).isZero();

        Response second = handler.handleError(INPUT, first.deadLetterQueueRecords().get(0),
                new RecordTooLargeException("broker says no again"));
        assertThat(second.result()).isEqualTo(Result.RESUME);
        assertThat(second.deadLetterQueueRecords()).isEmpty();
        assertThat(errors.refusals("agent-events", 5, 9)).isEqualTo(2);
    }
}
