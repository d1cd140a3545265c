package dev.agentevents.router;

/**
 * Why an input record went to the dead-letter topic: the value of its {@code __streams.errors.code} header.
 * One Prometheus counter per reason ({@code router_events_rejected_total{reason=…}}).
 */
public enum RejectReason {
    /** Not the Confluent wire format, or not valid Avro under its writer schema. */
    UNDECODABLE,
    /** The schema id in the record's header is unknown to the registry. */
    UNKNOWN_SCHEMA_ID,
    /** The Kafka key is not the event's userId (or not UTF-8): it would reach the wrong user. */
    KEY_USER_MISMATCH,
    /** eventId, userId, threadId or runId is blank. */
    MISSING_FIELD,
    /** An id longer than 512 characters. */
    INVALID_FIELD,
    /** A negative seq, agent_started not at seq 0, or seq 0 that is not agent_started. */
    INVALID_SEQ,
    /** A type this router does not know. */
    UNKNOWN_TYPE,
    /** The payload record the type needs is absent (e.g. tool_executing without toolCall). */
    MISSING_PAYLOAD,
    /** A second agent_started for a run. */
    DUPLICATE_START,
    /** The event's threadId differs from its run's. */
    THREAD_MISMATCH,
    /** tool_completed without a matching open tool_executing, or a tool call started twice. */
    INVALID_TRANSITION,
    /** Anything after the run's terminal event. */
    AFTER_TERMINAL,
    /** The record is larger than ROUTER_MAX_EVENT_BYTES. */
    OVERSIZED,
    /** The event arrived after the router gave up waiting for it and emitted a gap marker. */
    LATE,
    /** An unexpected exception while processing the record (a defect: the message says which). */
    PROCESSING_ERROR
}
