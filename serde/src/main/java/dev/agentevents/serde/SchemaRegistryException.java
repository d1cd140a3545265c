package dev.agentevents.serde;

/**
 * A schema registry request that failed: the registry answered with an error, or could not be reached.
 * Carries the HTTP status ({@code -1} when no answer came), Confluent's {@code error_code} ({@code -1} when
 * the body had none), and the subject or schema id the request was about.
 */
public final class SchemaRegistryException extends RuntimeException {

    /** Confluent's codes this project acts on. */
    public static final int SUBJECT_NOT_FOUND = 40401;
    public static final int VERSION_NOT_FOUND = 40402;
    public static final int SCHEMA_NOT_FOUND = 40403;
    public static final int INVALID_SCHEMA = 42201;

    private final int httpStatus;
    private final int errorCode;
    private final String subject;
    private final Integer schemaId;

    public SchemaRegistryException(String message, int httpStatus, int errorCode, String subject, Integer schemaId,
                                   Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
        this.subject = subject;
        this.schemaId = schemaId;
    }

    /** HTTP status of the registry's answer, or -1 when it could not be reached. */
    public int httpStatus() {
        return httpStatus;
    }

    /** Confluent error code from the body ({@code 40403}, {@code 409}, ...), or -1. */
    public int errorCode() {
        return errorCode;
    }

    /** The subject the request was about, or null. */
    public String subject() {
        return subject;
    }

    /** The schema id the request was about, or null. */
    public Integer schemaId() {
        return schemaId;
    }

    /**
     * Whether the schema was rejected as incompatible. Keyed on HTTP 409: registries have used error code 409
     * and, more recently, 40901 for the same answer.
     */
    public boolean isIncompatible() {
        return httpStatus == 409;
    }

    /** Whether asking again later may succeed: no answer, or a server-side error. */
    public boolean isRetriable() {
        return httpStatus < 0 || httpStatus >= 500;
    }
}
