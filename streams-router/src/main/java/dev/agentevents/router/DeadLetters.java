package dev.agentevents.router;

import dev.agentevents.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of the router's dead-letter records: Kafka Streams' six KIP-1034 headers, which its built-in
 * dead-letter queue writes too, plus the reason code and the time (see {@link DeadLetterHeaders}).
 */
final class DeadLetters {

    private DeadLetters() {
    }

    static Headers headers(RejectReason reason, String message, String topic, int partition, long offset,
                           long nowMs) {
        RecordHeaders headers = new RecordHeaders();
        put(headers, DeadLetterHeaders.EXCEPTION, RejectReason.class.getName());
        put(headers, DeadLetterHeaders.MESSAGE, message);
        put(headers, DeadLetterHeaders.STACKTRACE, "");
        put(headers, DeadLetterHeaders.TOPIC, topic);
        put(headers, DeadLetterHeaders.PARTITION, Integer.toString(partition));
        put(headers, DeadLetterHeaders.OFFSET, Long.toString(offset));
        addCodeAndTime(headers, reason, nowMs);
        return headers;
    }

    /** Adds the reason code and time to a record built by Kafka Streams' own dead-letter queue. */
    static void addCodeAndTime(Headers headers, RejectReason reason, long nowMs) {
        headers.remove(DeadLetterHeaders.CODE);
        headers.remove(DeadLetterHeaders.TIME);
        put(headers, DeadLetterHeaders.CODE, reason.name());
        put(headers, DeadLetterHeaders.TIME, Long.toString(nowMs));
    }

    private static void put(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
