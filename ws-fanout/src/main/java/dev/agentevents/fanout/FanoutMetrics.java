package dev.agentevents.fanout;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's metrics: open connections per transport, frames delivered, latency from the event's creation in the
 * publisher to its write on the socket (one clock: {@code occurredAt} against this host's time), frames dropped
 * by reason, resumes by where they were served from, moves by cause, connections refused by reason, connections
 * the client abandoned before they were set up.
 */
final class FanoutMetrics {

    private final MeterRegistry registry;
    private final Counter delivered;
    private final DistributionSummary latency;
    private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    FanoutMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.delivered = Counter.builder("fanout.frames.delivered").description("event and gap frames written to clients")
                .register(registry);
        this.latency = DistributionSummary.builder("fanout.delivery.latency.ms")
                .description("milliseconds from the event's occurredAt to its write on the client's socket")
                .publishPercentiles(0.5, 0.99, 0.999).publishPercentileHistogram().minimumExpectedValue(1.0)
                .maximumExpectedValue(60_000.0).register(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    void opened(String transport) {
        connections.computeIfAbsent(transport, t -> {
            AtomicInteger count = new AtomicInteger();
            Gauge.builder("fanout.connections", count, AtomicInteger::get).tag("transport", t)
                    .description("open client connections").register(registry);
            return count;
        }).incrementAndGet();
    }

    void closed(String transport) {
        connections.get(transport).decrementAndGet();
    }

    int open(String transport) {
        AtomicInteger count = connections.get(transport);
        return count == null ? 0 : count.get();
    }

    void delivered(long occurredAtMs) {
        delivered.increment();
        if (occurredAtMs > 0) {
            latency.record(Math.max(0, System.currentTimeMillis() - occurredAtMs));
        }
    }

    void dropped(String reason, int frames) {
        count("fanout.frames.dropped", "reason", reason, frames);
    }

    void resumed(String source) {
        count("fanout.resumes", "source", source, 1);
    }

    void moved(String cause) {
        count("fanout.moves", "cause", cause, 1);
    }

    /** The client went away before its connection was set up (while its token was being checked). */
    void abandoned(String transport) {
        count("fanout.handshakes.abandoned", "transport", transport, 1);
    }

    void refused(String reason) {
        count("fanout.refused", "reason", reason, 1);
    }

    private void count(String name, String tag, String value, int amount) {
        counters.computeIfAbsent(name + "|" + value, k -> Counter.builder(name).tag(tag, value).register(registry))
                .increment(amount);
    }
}
