package dev.agentevents.router;

import dev.agentevents.config.Environment;

/**
 * Everything a producer controls has a limit here; each rejection has its own {@link RejectReason}. The limits
 * are checked against each other and against the Kafka producer's request size when the router starts, so no
 * record the router writes (ordered event or dead letter) can be larger than the producer or broker accepts.
 *
 * <ul>
 * <li>{@code ROUTER_MAX_EVENT_BYTES} (327680): a larger input value is {@code OVERSIZED};
 * <li>{@code ROUTER_MAX_ID_BYTES} (512): the key ({@code KEY_TOO_LONG}) and every id and agent string
 *     ({@code ID_TOO_LONG}), in UTF-8 bytes;
 * <li>{@code ROUTER_MAX_PENDING_PER_RUN} (1000) and {@code ROUTER_MAX_PENDING_BYTES_PER_RUN} (4 MiB): events held
 *     out of order per run; beyond either, the router stops waiting ({@code BUFFER_FULL} gap);
 * <li>{@code ROUTER_MAX_OPEN_CALLS_PER_RUN} (64): tool calls executing at once ({@code TOO_MANY_OPEN_CALLS});
 * <li>{@code ROUTER_MAX_OPEN_RUNS_PER_USER} (100): runs of one user not yet ended ({@code TOO_MANY_OPEN_RUNS});
 * <li>{@code ROUTER_MAX_RUN_STATE_BYTES} (16384): what the router remembers of one run ({@code STATE_TOO_LARGE});
 * <li>{@code ROUTER_MAX_DEAD_LETTER_BYTES} (524288): key + value + headers of a dead letter; larger ones are stored
 *     truncated, with the original sizes and SHA-256 in headers;
 * <li>{@code ROUTER_MAX_SWEEP_RUNS} (500): runs one task's timeout sweep acts on per interval, so closing thousands
 *     of abandoned runs never stalls live ones.
 * </ul>
 */
public record RouterLimits(int maxEventBytes, int maxIdBytes, int maxPendingPerRun, long maxPendingBytesPerRun,
                           int maxOpenCallsPerRun, int maxOpenRunsPerUser, int maxRunStateBytes,
                           int maxDeadLetterBytes, int maxSweepRuns) {

    /** The largest {@code seq} (and number) a browser's JavaScript can hold exactly: 2^53 − 1. */
    public static final long MAX_SAFE_NUMBER = (1L << 53) - 1;
    /** Room for what the router adds to an event in its ordered record, and for record overhead. */
    static final int ORDERED_OVERHEAD_BYTES = 4096;
    /** Room for record overhead beside a dead letter's key, value and headers. */
    static final int DEAD_LETTER_OVERHEAD_BYTES = 1024;
    /** The smallest dead-letter budget: the router's own headers must fit with room for a prefix of the input. */
    static final int MIN_DEAD_LETTER_BYTES = 16 * 1024;

    public RouterLimits {
        positive("ROUTER_MAX_EVENT_BYTES", maxEventBytes);
        positive("ROUTER_MAX_ID_BYTES", maxIdBytes);
        positive("ROUTER_MAX_PENDING_PER_RUN", maxPendingPerRun);
        positive("ROUTER_MAX_PENDING_BYTES_PER_RUN", maxPendingBytesPerRun);
        positive("ROUTER_MAX_OPEN_CALLS_PER_RUN", maxOpenCallsPerRun);
        positive("ROUTER_MAX_OPEN_RUNS_PER_USER", maxOpenRunsPerUser);
        positive("ROUTER_MAX_SWEEP_RUNS", maxSweepRuns);
        if (maxDeadLetterBytes < MIN_DEAD_LETTER_BYTES) {
            throw new IllegalArgumentException("ROUTER_MAX_DEAD_LETTER_BYTES " + maxDeadLetterBytes
                    + " is too small: at least " + MIN_DEAD_LETTER_BYTES + " are needed for the reason headers");
        }
        int smallestState = 64 + 6 * maxIdBytes;
        if (maxRunStateBytes < smallestState) {
            throw new IllegalArgumentException("ROUTER_MAX_RUN_STATE_BYTES " + maxRunStateBytes + " cannot hold a run"
                    + " whose ids are at ROUTER_MAX_ID_BYTES " + maxIdBytes + ": at least " + smallestState
                    + " are needed");
        }
    }

    private static void positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " " + value + " must be at least 1");
        }
    }

    public static RouterLimits from(Environment env) {
        return new RouterLimits(
                env.integer("ROUTER_MAX_EVENT_BYTES", 320 * 1024),
                env.integer("ROUTER_MAX_ID_BYTES", 512),
                env.integer("ROUTER_MAX_PENDING_PER_RUN", 1000),
                env.longValue("ROUTER_MAX_PENDING_BYTES_PER_RUN", 4L * 1024 * 1024),
                env.integer("ROUTER_MAX_OPEN_CALLS_PER_RUN", 64),
                env.integer("ROUTER_MAX_OPEN_RUNS_PER_USER", 100),
                env.integer("ROUTER_MAX_RUN_STATE_BYTES", 16 * 1024),
                env.integer("ROUTER_MAX_DEAD_LETTER_BYTES", 512 * 1024),
                env.integer("ROUTER_MAX_SWEEP_RUNS", 500));
    }

    /** The largest ordered record an accepted event can make: the event, its ids again, hashes, position. */
    long maxOrderedRecordBytes() {
        return (long) maxEventBytes + 4L * maxIdBytes + ORDERED_OVERHEAD_BYTES;
    }

    /**
     * Fails, naming the setting, unless every record the router may write fits {@code maxRecordBytes} (the
     * producer's {@code max.request.size}, or a topic's {@code max.message.bytes}) called {@code limitName}.
     */
    void requireFits(long maxRecordBytes, String limitName) {
        if (maxOrderedRecordBytes() > maxRecordBytes) {
            throw new IllegalArgumentException("ROUTER_MAX_EVENT_BYTES " + maxEventBytes + " with ROUTER_MAX_ID_BYTES "
                    + maxIdBytes + " allows ordered records of " + maxOrderedRecordBytes() + " bytes, more than "
                    + limitName + " " + maxRecordBytes + ": lower ROUTER_MAX_EVENT_BYTES or raise " + limitName);
        }
        if ((long) maxDeadLetterBytes + DEAD_LETTER_OVERHEAD_BYTES > maxRecordBytes) {
            throw new IllegalArgumentException("ROUTER_MAX_DEAD_LETTER_BYTES " + maxDeadLetterBytes
                    + " leaves no room under " + limitName + " " + maxRecordBytes + " (at most "
                    + (maxRecordBytes - DEAD_LETTER_OVERHEAD_BYTES) + ")");
        }
    }

    @Override
    public String toString() {
        return "{maxEventBytes=" + maxEventBytes + ", maxIdBytes=" + maxIdBytes + ", maxPendingPerRun="
                + maxPendingPerRun + ", maxPendingBytesPerRun=" + maxPendingBytesPerRun + ", maxOpenCallsPerRun="
                + maxOpenCallsPerRun + ", maxOpenRunsPerUser=" + maxOpenRunsPerUser + ", maxRunStateBytes="
                + maxRunStateBytes + ", maxDeadLetterBytes=" + maxDeadLetterBytes + ", maxSweepRuns=" + maxSweepRuns
                + "}";
    }
}
