package dev.agentevents.router;

import dev.agentevents.schemas.DeadLetterHeaders;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Builds the router's dead-letter records, bounded: key + value + headers at most the budget
 * ({@code ROUTER_MAX_DEAD_LETTER_BYTES}), so no input, however large, makes a dead letter Kafka refuses. Headers are
 * Kafka Streams' six KIP-1034 ones, the reason code and time, and the original key and value sizes and SHA-256 (see
 * {@link DeadLetterHeaders}); texts that quote input are capped. The router's own rejections, Kafka Streams' exception
 * handlers and the production handler all build their records here.
 */
final class DeadLetters {

    /** Why the record is dead: the reason code, the exception class, a message, optionally a stack trace. */
    record Cause(RejectReason reason, String exception, String message, String stackTrace) {

        static Cause of(RejectReason reason, String message) {
            return new Cause(reason, RejectReason.class.getName(), message, "");
        }

        /** The cause for an exception: its class, message and (capped) stack trace. */
        static Cause of(RejectReason reason, Throwable exception) {
            StringWriter trace = new StringWriter();
            exception.printStackTrace(new PrintWriter(trace));
            return new Cause(reason, exception.getClass().getName(), String.valueOf(exception.getMessage()),
                    cap(trace.toString(), MAX_STACK_TRACE_CHARS));
        }
    }

    /** Where the input was read ({@code topic} null and offsets -1 when the router made the record itself). */
    record Origin(String topic, int partition, long offset) {
    }

    /** A bounded dead letter, ready to be forwarded to the dead-letter sink or handed to Kafka Streams. */
    record Letter(byte[] key, byte[] value, Headers headers) {

        ProducerRecord<byte[], byte[]> toProducerRecord(String topic, long timestamp) {
            return new ProducerRecord<>(topic, null, timestamp, key, value, headers);
        }

        /** Key, value and header bytes, as the producer counts them toward its request size. */
        long size() {
            long size = length(key) + length(value);
            for (Header header : headers) {
                size += header.key().getBytes(StandardCharsets.UTF_8).length + length(header.value());
            }
            return size;
        }
    }

    static final int MAX_MESSAGE_CHARS = 1000;
    static final int MAX_STACK_TRACE_CHARS = 8000;
    static final int MAX_QUOTE_CHARS = 64;
    static final int MAX_QUOTED_ITEMS = 5;
    private static final int MAX_NAME_CHARS = 256;
    /** The share of the budget input headers may take; beyond it they are left out and counted. */
    private static final int INPUT_HEADERS_SHARE = 8;
    private static final int MAX_INPUT_HEADER_BYTES = 16 * 1024;
    private static final HexFormat HEX = HexFormat.of();

    private DeadLetters() {
    }

    /**
     * The dead letter of input {@code key}/{@code value} (either may be null) read at {@code origin}, for
     * {@code cause}, with the input's own {@code inputHeaders} (may be null) where they fit; at most
     * {@code maxBytes} of key, value and headers.
     */
    static Letter build(byte[] key, byte[] value, Iterable<Header> inputHeaders, Cause cause, Origin origin,
                        long nowMs, int maxBytes) {
        RecordHeaders headers = new RecordHeaders();
        put(headers, DeadLetterHeaders.EXCEPTION, cap(cause.exception(), MAX_NAME_CHARS));
        put(headers, DeadLetterHeaders.MESSAGE, cap(cause.message(), MAX_MESSAGE_CHARS));
        put(headers, DeadLetterHeaders.STACKTRACE, cap(cause.stackTrace(), MAX_STACK_TRACE_CHARS));
        put(headers, DeadLetterHeaders.TOPIC, cap(origin.topic(), MAX_NAME_CHARS));
        put(headers, DeadLetterHeaders.PARTITION, Integer.toString(origin.partition()));
        put(headers, DeadLetterHeaders.OFFSET, Long.toString(origin.offset()));
        put(headers, DeadLetterHeaders.CODE, cause.reason().name());
        put(headers, DeadLetterHeaders.TIME, Long.toString(nowMs));
        put(headers, DeadLetterHeaders.KEY_SIZE, Integer.toString(key == null ? -1 : key.length));
        if (key != null) {
            put(headers, DeadLetterHeaders.KEY_SHA256, sha256(key));
        }
        put(headers, DeadLetterHeaders.VALUE_SIZE, Integer.toString(value == null ? -1 : value.length));
        if (value != null) {
            put(headers, DeadLetterHeaders.VALUE_SHA256, sha256(value));
        }
        copyInputHeaders(inputHeaders, headers, Math.min(MAX_INPUT_HEADER_BYTES, maxBytes / INPUT_HEADERS_SHARE));

        long room = maxBytes - new Letter(null, null, headers).size()
                - DeadLetterHeaders.TRUNCATED.length() - "true".length();
        if (length(key) + length(value) <= room) {
            return new Letter(key, value, headers);
        }
        int keyKept = (int) Math.min(length(key), Math.max(0, room / 4));
        int valueKept = (int) Math.min(length(value), Math.max(0, room - keyKept));
        put(headers, DeadLetterHeaders.TRUNCATED, "true");
        return new Letter(key == null ? null : Arrays.copyOf(key, keyKept),
                value == null ? null : Arrays.copyOf(value, valueKept), headers);
    }

    /** {@code value} for a message, cut to {@value #MAX_QUOTE_CHARS} characters with its full length noted. */
    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        if (value.length() <= MAX_QUOTE_CHARS) {
            return "'" + value + "'";
        }
        return "'" + cap(value, MAX_QUOTE_CHARS) + "…' (" + value.length() + " characters)";
    }

    /** Up to {@value #MAX_QUOTED_ITEMS} of {@code values}, each quoted, then how many more there are. */
    static String quoteAll(Collection<String> values) {
        StringBuilder text = new StringBuilder("[");
        int shown = 0;
        for (String value : values) {
            if (shown == MAX_QUOTED_ITEMS) {
                text.append(", … ").append(values.size() - shown).append(" more");
                break;
            }
            text.append(shown++ == 0 ? "" : ", ").append(quote(value));
        }
        return text.append(']').toString();
    }

    private static void copyInputHeaders(Iterable<Header> input, Headers into, int budget) {
        if (input == null) {
            return;
        }
        long used = 0;
        int dropped = 0;
        for (Header header : input) {
            if (header.key().startsWith("__streams.errors.")) {
                dropped++; // the input's own claims about an earlier failure would be mistaken for ours
                continue;
            }
            long size = header.key().getBytes(StandardCharsets.UTF_8).length + length(header.value());
            if (used + size > budget) {
                dropped++;
            } else {
                into.add(header.key(), header.value());
                used += size;
            }
        }
        if (dropped > 0) {
            put(into, DeadLetterHeaders.HEADERS_DROPPED, Integer.toString(dropped));
        }
    }

    /** At most {@code max} characters of {@code text}, never splitting a surrogate pair; null as empty. */
    static String cap(String text, int max) {
        if (text == null) {
            return "";
        }
        if (text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end);
    }

    static String sha256(byte[] bytes) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static long length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static void put(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
