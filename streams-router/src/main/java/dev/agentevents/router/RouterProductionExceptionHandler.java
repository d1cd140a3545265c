package dev.agentevents.router;

import dev.agentevents.router.RouterMetrics.WriteFailure;
import dev.agentevents.schemas.DeadLetterHeaders;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backstop for records the router wrote that Kafka refused (ordered events, dead letters). It never answers
 * FAIL: errors Kafka retries are retried; anything else is counted ({@code router_dead_letter_failures_total}), the
 * input's position is remembered in {@link RouterErrors} so that it is dead-lettered as
 * {@link RejectReason#WRITE_FAILED} when it is read again, and a small dead letter naming the refused record is
 * written at once (which is what survives under at_least_once; under exactly_once the transaction holding the
 * refused record is aborted, and the remembered position takes over).
 *
 * <p>The router's limits ({@link RouterLimits}, checked against the producer's and the topics' sizes at start) keep
 * this from being reached by any input; reaching it is worth an alert.
 */
public final class RouterProductionExceptionHandler implements ProductionExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RouterProductionExceptionHandler.class);

    private RouterErrors errors;

    @Override
    public void configure(Map<String, ?> configs) {
        errors = RouterErrors.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                Exception exception) {
        if (exception instanceof RetriableException) {
            return Response.retry();
        }
        WriteFailure failure = exception instanceof RecordTooLargeException ? WriteFailure.TOO_LARGE
                : WriteFailure.OTHER;
        return refused(context, record, exception, failure);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception exception,
                                             SerializationExceptionOrigin origin) {
        return refused(context, record, exception, WriteFailure.SERIALIZATION);
    }

    private Response refused(ErrorHandlerContext context, ProducerRecord<?, ?> record, Exception exception,
                             WriteFailure failure) {
        errors.metrics().writeFailed(failure);
        DeadLetters.Origin origin = originOf(context, record);
        errors.writeRefused(origin.topic(), origin.partition(), origin.offset());
        LOG.error("Kafka refused a record for topic {} written for input {} ({}); the input goes to the dead-letter"
                + " topic as WRITE_FAILED", record.topic(), origin, failure, exception);
        boolean deadLetterOfDeadLetter = record.topic().equals(errors.deadLetterTopic())
                && record.headers().lastHeader(DeadLetterHeaders.CODE) != null
                && RejectReason.WRITE_FAILED.name().equals(DeadLetterHeaders.text(record.headers(),
                        DeadLetterHeaders.CODE).orElse(""));
        if (deadLetterOfDeadLetter) {
            return Response.resume();
        }
        long now = System.currentTimeMillis();
        DeadLetters.Letter letter = DeadLetters.build(bytes(record.key()), bytes(record.value()), null,
                DeadLetters.Cause.of(RejectReason.WRITE_FAILED, exception), origin, now,
                RouterLimits.MIN_DEAD_LETTER_BYTES);
        errors.metrics().rejected(RejectReason.WRITE_FAILED);
        return Response.resume(List.of(letter.toProducerRecord(errors.deadLetterTopic(), now)));
    }

    /**
     * Where the input behind {@code record} was read: a dead letter says so in its headers; otherwise the context's
     * record, which is only the right one when Kafka refused the record while the stream thread was sending it (a size
     * the producer checks itself, a serialization error) — not in the producer's network thread.
     */
    private static DeadLetters.Origin originOf(ErrorHandlerContext context, ProducerRecord<?, ?> record) {
        String topic = DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.TOPIC).orElse(null);
        String partition = DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.PARTITION).orElse(null);
        String offset = DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.OFFSET).orElse(null);
        if (topic != null && !topic.isEmpty() && partition != null && offset != null) {
            try {
                return new DeadLetters.Origin(topic, Integer.parseInt(partition), Long.parseLong(offset));
            } catch (NumberFormatException e) {
                // not one of ours: fall through to the context
            }
        }
        if (Thread.currentThread().getName().startsWith("kafka-producer-network-thread")) {
            return new DeadLetters.Origin(null, -1, -1);
        }
        return new DeadLetters.Origin(context.topic(), context.partition(), context.offset());
    }

    private static byte[] bytes(Object keyOrValue) {
        return keyOrValue instanceof byte[] bytes ? bytes : null;
    }
}
