package dev.agentevents.router;

import dev.agentevents.serde.AvroDecodeException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;

/**
 * Input that cannot be decoded goes to the dead-letter topic ({@code UNDECODABLE}, {@code UNKNOWN_SCHEMA_ID}) as a
 * bounded dead letter (see {@link DeadLetters}), and processing goes on. A registry that cannot be reached is not the
 * record's fault: processing fails instead, the stream thread is replaced and the record is read again later.
 */
public final class RouterDeserializationExceptionHandler implements DeserializationExceptionHandler {

    private RouterErrors errors;

    @Override
    public void configure(Map<String, ?> configs) {
        errors = RouterErrors.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                Exception exception) {
        AvroDecodeException decode = cause(exception);
        if (decode != null && decode.reason() == AvroDecodeException.Reason.REGISTRY_UNAVAILABLE) {
            return Response.fail();
        }
        RejectReason reason = decode != null && decode.reason() == AvroDecodeException.Reason.UNKNOWN_SCHEMA_ID
                ? RejectReason.UNKNOWN_SCHEMA_ID : RejectReason.UNDECODABLE;
        long now = System.currentTimeMillis();
        DeadLetters.Letter letter = DeadLetters.build(record.key(), record.value(), record.headers(),
                DeadLetters.Cause.of(reason, exception),
                new DeadLetters.Origin(record.topic(), record.partition(), record.offset()), now,
                errors.maxDeadLetterBytes());
        errors.metrics().rejected(reason);
        return Response.resume(List.of(letter.toProducerRecord(errors.deadLetterTopic(), now)));
    }

    private static AvroDecodeException cause(Throwable exception) {
        int depth = 0;
        for (Throwable t = exception; t != null && depth < 10; t = t.getCause(), depth++) {
            if (t instanceof AvroDecodeException decode) {
                return decode;
            }
        }
        return null;
    }
}
