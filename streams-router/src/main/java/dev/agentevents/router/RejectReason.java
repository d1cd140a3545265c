package dev.agentevents.router;

/**
 * Why an input record went to the dead-letter topic: the value of its {@code __streams.errors.code} header.
 * One Prometheus counter per reason ({@code router_events_rejected_total{reason=…}}). Each limit of
 * {@link RouterLimits} has a reason of its own.
 */
public enum RejectReason {
    /** Not the Confluent wire format, or not valid Avro under its writer schema. */
    UNDECODABLE,
    /** The schema id in the record's header is unknown to the registry. */
    UNKNOWN_SCHEMA_ID,
    /** The Kafka key is not the event's userId (or not UTF-8): it would reach the wrong user. */
    KEY_USER_MISMATCH,
    /** The Kafka key is longer than ROUTER_MAX_ID_BYTES. */
    KEY_TOO_LONG,
    /** eventId, userId, threadId or runId is blank. */
    MISSING_FIELD,
    /** An id or agent string longer than ROUTER_MAX_ID_BYTES (UTF-8). */
    ID_TOO_LONG,
    /** A negative seq, a seq over 2^53 − 1, agent_started not at seq 0, or seq 0 that is not agent_started. */
    INVALID_SEQ,
    /** A token count, duration or timestamp that is negative or beyond what a browser can represent. */
    INVALID_NUMBER,
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
    /** A tool_executing while ROUTER_MAX_OPEN_CALLS_PER_RUN calls of the run are executing. */
    TOO_MANY_OPEN_CALLS,
    /** The first event of a run whose user already has ROUTER_MAX_OPEN_RUNS_PER_USER runs not ended. */
    TOO_MANY_OPEN_RUNS,
    /** The event would make what the router keeps of its run larger than ROUTER_MAX_RUN_STATE_BYTES. */
    STATE_TOO_LARGE,
    /** Anything after the run's terminal event. */
    AFTER_TERMINAL,
    /** The record is larger than ROUTER_MAX_EVENT_BYTES. */
    OVERSIZED,
    /** The event arrived after the router gave up waiting for it and emitted a gap marker. */
    LATE,
    /** Kafka refused a record the router wrote for this input; the input is kept here instead. */
    WRITE_FAILED,
    /** An unexpected exception while processing the record (a defect: the message says which). */
    PROCESSING_ERROR
}
