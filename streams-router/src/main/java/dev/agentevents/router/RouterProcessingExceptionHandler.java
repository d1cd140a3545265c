package dev.agentevents.router;

import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * An unexpected exception while processing a record sends that record (its original bytes, bounded by
 * {@link DeadLetters}) to the dead-letter topic with reason {@code PROCESSING_ERROR}, and processing goes on: one bad
 * record never stops the pipeline.
 */
public final class RouterProcessingExceptionHandler implements ProcessingExceptionHandler {

    private RouterErrors errors;

    @Override
    public void configure(Map<String, ?> configs) {
        errors = RouterErrors.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        long now = System.currentTimeMillis();
        DeadLetters.Letter letter = DeadLetters.build(context.sourceRawKey(), context.sourceRawValue(),
                context.headers(), DeadLetters.Cause.of(RejectReason.PROCESSING_ERROR, exception),
                new DeadLetters.Origin(context.topic(), context.partition(), context.offset()), now,
                errors.maxDeadLetterBytes());
        errors.metrics().rejected(RejectReason.PROCESSING_ERROR);
        return Response.resume(List.of(letter.toProducerRecord(errors.deadLetterTopic(), now)));
    }
}
