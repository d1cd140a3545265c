package dev.agentevents.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The router's own counters (Kafka Streams' metrics are bound next to them): events accepted, events rejected
 * per reason, duplicates dropped per kind, gap markers per reason, runs closed as abandoned, records Kafka refused
 * per reason, stream threads replaced. Under
 * exactly-once, a task that is retried counts its records again: the dead-letter topic is the exact record,
 * these are rates to alert on.
 */
public final class RouterMetrics {

    /** A kind of duplicate the router dropped ({@code router_events_dropped_total{kind=…}}, lower case). */
    enum Duplicate {
        /** An eventId the run has seen. */
        DUPLICATE_EVENT_ID,
        /** A seq the run has delivered or holds already. */
        DUPLICATE_SEQ
    }

    /** Why the router wrote a gap marker ({@code router_gaps_total{reason=…}}); also the marker's {@code reason}. */
    enum GapReason {
        /** The missing seqs did not arrive within ROUTER_GAP_TIMEOUT_MS. */
        TIMEOUT,
        /** More events were held than ROUTER_MAX_PENDING_PER_RUN or ROUTER_MAX_PENDING_BYTES_PER_RUN allow. */
        BUFFER_FULL,
        /** The event of this seq was rejected (it broke a rule of the run's lifecycle or a limit). */
        REJECTED
    }

    /** Why a record the router wrote was refused ({@code router_dead_letter_failures_total{reason=…}}). */
    enum WriteFailure {
        /** Larger than the producer or the broker accepts. */
        TOO_LARGE,
        /** The value could not be serialized (for the ordered topic: the registry refused its schema). */
        SERIALIZATION,
        /** Any other error Kafka does not retry. */
        OTHER
    }

    private final MeterRegistry registry;
    private final Counter accepted;
    private final Counter abandoned;
    private final Counter threadReplacements;
    private final Counter misrouted;
    private final Map<WriteFailure, Counter> writeFailures = new EnumMap<>(WriteFailure.class);
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    private final Map<Duplicate, Counter> dropped = new EnumMap<>(Duplicate.class);
    private final Map<GapReason, Counter> gaps = new EnumMap<>(GapReason.class);

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.accepted = Counter.builder("router.events.accepted")
                .description("events written to the ordered topic").register(registry);
        this.abandoned = Counter.builder("router.runs.abandoned")
                .description("runs closed with agent_failed{code=ABANDONED}").register(registry);
        this.misrouted = Counter.builder("router.misrouted.input")
                .description("input records not on the partition murmur2 of their key names (a producer that does"
                        + " not partition like Java, e.g. librdkafka without partitioner=murmur2_random)")
                .register(registry);
        this.threadReplacements = Counter.builder("router.stream.thread.replacements")
                .description("stream threads that failed and were replaced").register(registry);
        for (WriteFailure failure : WriteFailure.values()) {
            writeFailures.put(failure, Counter.builder("router.dead.letter.failures").tag("reason", failure.name())
                    .description("records the router wrote (ordered events, dead letters) that Kafka refused")
                    .register(registry));
        }
        for (Duplicate kind : Duplicate.values()) {
            dropped.put(kind, Counter.builder("router.events.dropped").tag("kind", kind.name().toLowerCase(Locale.ROOT))
                    .description("duplicates dropped").register(registry));
        }
        for (GapReason reason : GapReason.values()) {
            gaps.put(reason, Counter.builder("router.gaps").tag("reason", reason.name())
                    .description("gap markers written").register(registry));
        }
        for (RejectReason reason : RejectReason.values()) {
            rejected.put(reason, Counter.builder("router.events.rejected").tag("reason", reason.name())
                    .description("input records sent to the dead-letter topic").register(registry));
        }
    }

    /** Counters nobody reads (tests, tools). */
    public static RouterMetrics discarding() {
        return new RouterMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    void accepted() {
        accepted.increment();
    }

    void rejected(RejectReason reason) {
        rejected.get(reason).increment();
    }

    void dropped(Duplicate kind) {
        dropped.get(kind).increment();
    }

    void gap(GapReason reason) {
        gaps.get(reason).increment();
    }

    void abandoned() {
        abandoned.increment();
    }

    void writeFailed(WriteFailure failure) {
        writeFailures.get(failure).increment();
    }

    void misrouted() {
        misrouted.increment();
    }

    double misroutedCount() {
        return misrouted.count();
    }

    void threadReplaced() {
        threadReplacements.increment();
    }

    double threadReplacements() {
        return threadReplacements.count();
    }

    double writeFailures(WriteFailure failure) {
        return writeFailures.get(failure).count();
    }

    double rejectedCount(RejectReason reason) {
        return rejected.get(reason).count();
    }
}
