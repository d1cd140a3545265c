package dev.agentevents.router;

import dev.agentevents.schemas.AvroDecodeException;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * Input that cannot be decoded goes to the dead-letter topic through Kafka Streams' own dead-letter queue
 * (KIP-1034), with the reason code added ({@code UNDECODABLE}, {@code UNKNOWN_SCHEMA_ID}). A registry that cannot be
 * reached is not the record's fault: processing fails instead, the stream thread is replaced and the record is
 * read again later.
 */
public final class RouterDeserializationExceptionHandler extends LogAndContinueExceptionHandler {

    private RouterMetrics metrics = RouterMetrics.discarding();

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        if (configs.get(RouterMetrics.CONFIG_KEY) instanceof RouterMetrics configured) {
            metrics = configured;
        }
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
        Response response = super.handleError(context, record, exception);
        long now = System.currentTimeMillis();
        response.deadLetterQueueRecords().forEach(r -> DeadLetters.addCodeAndTime(r.headers(), reason, now));
        metrics.rejected(reason);
        return response;
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
