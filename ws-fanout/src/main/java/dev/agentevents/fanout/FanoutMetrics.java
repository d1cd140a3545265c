package dev.agentevents.fanout;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's metrics, in base units and with every label value registered up front: open connections per transport,
 * frames delivered, latency from the event's creation in the publisher to its write on the socket (one clock:
 * {@code occurredAt} against this host's time; {@code fanout_delivery_latency_seconds}), frames dropped by reason,
 * resumes by where they were served from, moves by cause, refusals by reason, connections the client abandoned before
 * they were set up. Label values are the enum names in lower case.
 */
final class FanoutMetrics {

    enum Transport { WEBSOCKET, SSE, AG_UI }

    enum DropReason {
        /** A connection that let its queue fill was closed with 4008; its queued frames go with it. */
        SLOW_CLIENT,
        /** A record of the ordered topic this node could not decode. */
        UNDECODABLE
    }

    /** Where a resume position was served from. */
    enum ResumeSource { CURRENT, MEMORY, KAFKA, RESET, FAILED, INTERRUPTED, REFUSED }

    enum MoveCause {
        /** The client came to a node that does not serve its partition. */
        WRONG_NODE,
        /** The partition went to another node without a hand-over: this node lost it, or nobody took it in time. */
        REBALANCE,
        /** The partition was assigned again without being revoked first. */
        REASSIGNED,
        /**
         * The partition was handed to the node {@code moved} names (this node stops, or the group gave the partition
         * to a node that joined), served here until then.
         */
        HANDOVER,
        /** The node stops (and nobody had taken the partition over). */
        SHUTDOWN
    }

    /** Why a connection, a client message or a node's URL was refused, or a connection closed by the node. */
    enum Refusal {
        ORIGIN, TOKEN, CONNECTIONS_PER_USER, NODE_CONNECTIONS, ADDRESS_CONNECTIONS, HANDSHAKE_TIMEOUT,
        CLIENT_MESSAGE_SIZE, CLIENT_MESSAGE_RATE, BINARY_FRAME,
        /** A refresh with a token of another user (4403). */
        REFRESH_OTHER_USER,
        /** The token expired without a refresh (4401). */
        TOKEN_EXPIRED,
        /** The group named an owner URL that FANOUT_ALLOWED_NODE_URLS does not allow. */
        NODE_URL
    }

    private final MeterRegistry registry;
    private final Counter delivered;
    private final Timer latency;
    private final Map<Transport, AtomicInteger> connections = new EnumMap<>(Transport.class);
    private final Map<Transport, Counter> abandoned = new EnumMap<>(Transport.class);
    private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
    private final Map<ResumeSource, Counter> resumes = new EnumMap<>(ResumeSource.class);
    private final Map<MoveCause, Counter> moves = new EnumMap<>(MoveCause.class);
    private final Map<Refusal, Counter> refusals = new EnumMap<>(Refusal.class);

    FanoutMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.delivered = Counter.builder("fanout.frames.delivered").description("event and gap frames written to clients")
                .register(registry);
        this.latency = Timer.builder("fanout.delivery.latency")
                .description("from the event's occurredAt to its write on the client's socket")
                .publishPercentiles(0.5, 0.99, 0.999).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        for (Transport transport : Transport.values()) {
            AtomicInteger count = new AtomicInteger();
            connections.put(transport, count);
            Gauge.builder("fanout.connections", count, AtomicInteger::get).tag("transport", label(transport))
                    .description("open client connections").register(registry);
            abandoned.put(transport, counter("fanout.handshakes.abandoned", "transport", transport,
                    "connections the client closed before they were set up"));
        }
        for (DropReason reason : DropReason.values()) {
            dropped.put(reason, counter("fanout.frames.dropped", "reason", reason, "frames not delivered"));
        }
        for (ResumeSource source : ResumeSource.values()) {
            resumes.put(source, counter("fanout.resumes", "source", source, "resume positions served"));
        }
        for (MoveCause cause : MoveCause.values()) {
            moves.put(cause, counter("fanout.moves", "cause", cause, "clients told to move to another node"));
        }
        for (Refusal refusal : Refusal.values()) {
            refusals.put(refusal, counter("fanout.refused", "reason", refusal, "connections or messages refused"));
        }
    }

    private Counter counter(String name, String tag, Enum<?> value, String description) {
        return Counter.builder(name).tag(tag, label(value)).description(description).register(registry);
    }

    private static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    MeterRegistry registry() {
        return registry;
    }

    void opened(Transport transport) {
        connections.get(transport).incrementAndGet();
    }

    void closed(Transport transport) {
        connections.get(transport).decrementAndGet();
    }

    int open(Transport transport) {
        return connections.get(transport).get();
    }

    void delivered(long occurredAtMs) {
        delivered.increment();
        if (occurredAtMs > 0) {
            latency.record(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - occurredAtMs)));
        }
    }

    void dropped(DropReason reason, int frames) {
        dropped.get(reason).increment(frames);
    }

    void resumed(ResumeSource source) {
        resumes.get(source).increment();
    }

    void moved(MoveCause cause) {
        moves.get(cause).increment();
    }

    /** The client went away before its connection was set up (while its token was being checked). */
    void abandoned(Transport transport) {
        abandoned.get(transport).increment();
    }

    void refused(Refusal refusal) {
        refusals.get(refusal).increment();
    }
}
