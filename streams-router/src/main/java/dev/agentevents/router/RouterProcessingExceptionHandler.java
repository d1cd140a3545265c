package dev.agentevents.router;

import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * An unexpected exception while processing a record sends that record (its original bytes) to the dead-letter
 * topic through Kafka Streams' own dead-letter queue, with reason {@code PROCESSING_ERROR}, and processing goes on:
 * one bad record never stops the pipeline.
 */
public final class RouterProcessingExceptionHandler extends LogAndContinueProcessingExceptionHandler {

    private RouterMetrics metrics = RouterMetrics.discarding();

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        if (configs.get(RouterMetrics.CONFIG_KEY) instanceof RouterMetrics configured) {
            metrics = configured;
        }
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        Response response = super.handleError(context, record, exception);
        long now = System.currentTimeMillis();
        response.deadLetterQueueRecords().forEach(r -> DeadLetters.addCodeAndTime(r.headers(),
                RejectReason.PROCESSING_ERROR, now));
        metrics.rejected(RejectReason.PROCESSING_ERROR);
        return response;
    }
}
