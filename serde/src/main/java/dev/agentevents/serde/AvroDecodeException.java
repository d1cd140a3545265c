package dev.agentevents.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes that {@link AvroDeserializer} could not turn into a record, with the reason as a value the caller can
 * act on: {@link Reason#REGISTRY_UNAVAILABLE} may succeed later, the others never will.
 */
public final class AvroDecodeException extends SerializationException {

    public enum Reason {
        /** Not the Confluent wire format: empty, shorter than the 5-byte header, or magic byte other than 0. */
        BAD_MAGIC_BYTE,
        /** The registry does not know the schema id in the header. */
        UNKNOWN_SCHEMA_ID,
        /** The body is not a valid Avro encoding under the writer schema (truncated, trailing bytes, bad data). */
        MALFORMED_AVRO,
        /** The writer schema could not be fetched because the registry could not answer; retry later. */
        REGISTRY_UNAVAILABLE
    }

    private final Reason reason;
    private final Integer schemaId;

    public AvroDecodeException(Reason reason, Integer schemaId, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.schemaId = schemaId;
    }

    public Reason reason() {
        return reason;
    }

    /** The schema id from the header, or null when the header itself was bad. */
    public Integer schemaId() {
        return schemaId;
    }
}
