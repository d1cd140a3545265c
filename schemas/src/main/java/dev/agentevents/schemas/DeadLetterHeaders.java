package dev.agentevents.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Header names of records on the dead-letter topic. The first six are Kafka Streams' own (KIP-1034), written
 * by its built-in dead-letter queue for undecodable records and unexpected exceptions; the router writes the
 * same six for its validation rejections and adds {@link #CODE} (a stable reason such as
 * {@code KEY_USER_MISMATCH}) and {@link #TIME} (epoch millis of the rejection), so one reader understands
 * every record on the topic. Values are UTF-8 strings.
 *
 * <p>Every dead letter also says how large the original key and value were and their SHA-256 ({@link #KEY_SIZE},
 * {@link #KEY_SHA256}, {@link #VALUE_SIZE}, {@link #VALUE_SHA256}; size {@code -1} and no hash for a null key or
 * value). Dead letters are bounded: one whose key, value and headers would exceed the router's budget is stored
 * with a prefix of its key and value and {@link #TRUNCATED} {@code true}; input headers beyond their share are left
 * out and counted in {@link #HEADERS_DROPPED}. The sizes and hashes still prove what arrived.
 */
public final class DeadLetterHeaders {

    public static final String EXCEPTION = "__streams.errors.exception";
    public static final String MESSAGE = "__streams.errors.message";
    public static final String STACKTRACE = "__streams.errors.stacktrace";
    public static final String TOPIC = "__streams.errors.topic";
    public static final String PARTITION = "__streams.errors.partition";
    public static final String OFFSET = "__streams.errors.offset";
    public static final String CODE = "__streams.errors.code";
    public static final String TIME = "__streams.errors.time";
    public static final String KEY_SIZE = "__streams.errors.key.size";
    public static final String KEY_SHA256 = "__streams.errors.key.sha256";
    public static final String VALUE_SIZE = "__streams.errors.value.size";
    public static final String VALUE_SHA256 = "__streams.errors.value.sha256";
    public static final String TRUNCATED = "__streams.errors.truncated";
    public static final String HEADERS_DROPPED = "__streams.errors.headers.dropped";

    private DeadLetterHeaders() {
    }

    /** The last value of header {@code name} as UTF-8 text, if present. */
    public static Optional<String> text(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null
                ? Optional.empty()
                : Optional.of(new String(header.value(), StandardCharsets.UTF_8));
    }
}
