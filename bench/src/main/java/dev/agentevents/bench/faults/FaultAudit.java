package dev.agentevents.bench.faults;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * The fault audit's arithmetic, with no I/O: from deliveries counted per time bucket and each user's delivery
 * times, what a fault cost — the longest stretch without any delivery to anyone, the time until the delivery rate
 * recovered, how long users waited between deliveries and how late their events came — and whether a registry
 * outage stopped deliveries.
 */
final class FaultAudit {

    /** Routers this close to the present in reading their input have recovered from whatever came before. */
    static final long ROUTERS_CAUGHT_UP_MS = 10_000;

    /** The kind of the row that measures the time before the first fault. */
    static final String NO_FAULT = "none";

    private FaultAudit() {
    }

    /** The kind of the rows that measure one step of a fault made of several (each process of a rolling restart). */
    static final String STEP = "step";

    /**
     * One fault: when it came ({@code atMs}) and when the process was back ({@code restartedAtMs}), both since the
     * clients started; {@code routersBehindMs}: how far behind the routers were in reading their input when it came
     * (-1: unknown); {@code steps}: when each of its steps began, for a fault made of several (else empty).
     */
    record Fault(String kind, String what, long atMs, long restartedAtMs, long routersBehindMs, List<Step> steps) {
        Fault(String kind, String what, long atMs, long restartedAtMs, long routersBehindMs) {
            this(kind, what, atMs, restartedAtMs, routersBehindMs, List.of());
        }

        /** Whether the routers had read their input up to the present when the fault came (or nobody knew). */
        boolean routersCaughtUp() {
            return routersBehindMs < ROUTERS_CAUGHT_UP_MS;
        }

        /** The row of no fault at all: the waits users have anyway, which nothing recovers from. */
        boolean isBaseline() {
            return kind.equals(NO_FAULT);
        }
    }

    /** One step of a fault (e.g. "restarting router-1"), begun {@code atMs} after the clients started. */
    record Step(String what, long atMs) {
    }

    /**
     * What a fault did to deliveries as a whole.
     *
     * @param longestStallSeconds the longest stretch without any delivery to anyone, from the fault to the window's end
     * @param recoverySeconds how long after the fault the delivery rate (over a sliding second) was back to at least
     *                        half its rate in the 10 s before, after first falling below it; 0: it never fell below;
     *                        -1: not back within the window
     * @param deliveredBefore deliveries in the 10 s before the fault (0: deliveries had already stopped)
     */
    record Impact(double longestStallSeconds, double recoverySeconds, long deliveredBefore) {
    }

    /**
     * One event shown to a user: when ({@code atMs}, since the clients started) and how long after the agent made
     * it ({@code delayMs}: from its {@code occurredAt}, stamped when the agent published it, to the client's frame).
     */
    record Delivery(long atMs, long delayMs) {
    }

    /**
     * How long users waited between two deliveries in a window (or, for {@link #eventDelays}, how late their
     * latest-shown event was); {@code longestEndedAtSeconds}: when the longest one ended (since the clients started),
     * to find it in the processes' logs: for each user, the longest wait that overlaps it;
     * then the median, 95th and 99th percentile and the longest of those, over the users that waited at all.
     */
    record UserWaits(int users, double p50Seconds, double p95Seconds, double p99Seconds, double maxSeconds,
                     double longestEndedAtSeconds) {
    }

    /** Deliveries between {@code fromMs} and {@code toMs}, from counts per bucket of {@code bucketMs}. */
    static long deliveredBetween(long[] perBucket, int bucketMs, long fromMs, long toMs) {
        long total = 0;
        for (int b = (int) Math.max(0, fromMs / bucketMs); b < Math.min(perBucket.length, toMs / bucketMs); b++) {
            total += perBucket[b];
        }
        return total;
    }

    /** The fault's {@link Impact} on deliveries counted per bucket, between the fault and {@code windowEndMs}. */
    static Impact impact(long[] perBucket, int bucketMs, long faultAtMs, long windowEndMs) {
        int start = (int) (faultAtMs / bucketMs);
        int end = (int) Math.min(perBucket.length, windowEndMs / bucketMs);
        long before = deliveredBetween(perBucket, bucketMs, faultAtMs - 10_000, faultAtMs);
        double half = before / 10.0 / 2; // half the rate per second of the 10 s before
        int longest = 0;
        int current = 0;
        for (int b = start; b < end; b++) {
            current = perBucket[b] == 0 ? current + 1 : 0;
            longest = Math.max(longest, current);
        }
        int perSecond = 1000 / bucketMs;
        boolean fell = false;
        double recovered = -1;
        for (int b = start + perSecond - 1; b < end && recovered < 0; b++) {
            long lastSecond = deliveredBetween(perBucket, bucketMs, (b - perSecond + 1L) * bucketMs,
                    (b + 1L) * bucketMs);
            if (lastSecond < half) {
                fell = true;
            } else if (fell) {
                recovered = ((b + 1) * (double) bucketMs - faultAtMs) / 1000.0;
            }
        }
        return new Impact(longest * bucketMs / 1000.0, fell ? recovered : 0, before);
    }

    /**
     * {@link UserWaits} over [{@code fromMs}, {@code toMs}): a wait counts when it ends after {@code fromMs} and by
     * {@code toMs}; {@code deliveries} holds each user's deliveries in order.
     */
    static UserWaits userWaits(Collection<List<Delivery>> deliveries, long fromMs, long toMs) {
        return summary(deliveries, own -> {
            Worst worst = null;
            for (int i = 1; i < own.size(); i++) {
                long a = own.get(i - 1).atMs();
                long b = own.get(i).atMs();
                if (b > fromMs && a < toMs && b <= toMs && (worst == null || b - a > worst.ms())) {
                    worst = new Worst(b - a, b);
                }
            }
            return worst;
        });
    }

    /**
     * For each user, the longest delay (agent's publish → client's frame) of an event shown in [{@code fromMs},
     * {@code toMs}); then the percentiles and the longest of those, as for {@link #userWaits}. This is the silence
     * the system caused: a user whose agent is thinking waits between deliveries, but no event of theirs is late.
     */
    static UserWaits eventDelays(Collection<List<Delivery>> deliveries, long fromMs, long toMs) {
        return summary(deliveries, own -> {
            Worst worst = null;
            for (Delivery delivery : own) {
                if (delivery.atMs() >= fromMs && delivery.atMs() < toMs
                        && (worst == null || delivery.delayMs() > worst.ms())) {
                    worst = new Worst(delivery.delayMs(), delivery.atMs());
                }
            }
            return worst;
        });
    }

    /** One user's worst in a window: how long, and when it ended. */
    private record Worst(long ms, long endedAtMs) {
    }

    /** Each user's worst ({@code worstOf}, null: none in the window), as percentiles over the users. */
    private static UserWaits summary(Collection<List<Delivery>> deliveries,
                                     Function<List<Delivery>, Worst> worstOf) {
        List<Long> longest = new ArrayList<>();
        Worst worstOfAll = null;
        for (List<Delivery> own : deliveries) {
            Worst worst = worstOf.apply(own);
            if (worst != null) {
                longest.add(worst.ms());
                if (worstOfAll == null || worst.ms() > worstOfAll.ms()) {
                    worstOfAll = worst;
                }
            }
        }
        longest.sort(null);
        return new UserWaits(longest.size(), percentile(longest, 50), percentile(longest, 95),
                percentile(longest, 99), worstOfAll == null ? 0 : worstOfAll.ms() / 1000.0,
                worstOfAll == null ? 0 : worstOfAll.endedAtMs() / 1000.0);
    }

    /** The nearest-rank percentile of sorted milliseconds, in seconds (0 when empty). */
    static double percentile(List<Long> sortedMs, double p) {
        if (sortedMs.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sortedMs.size());
        return sortedMs.get(Math.max(0, rank - 1)) / 1000.0;
    }

    /**
     * Whether {@code fault} is a registry outage that stopped deliveries: with cached schemas it must not, and a
     * global stall of half the outage would show that it did. A stall already under way when the outage began is an
     * earlier fault's: nothing was delivered in the 10 s before, or the routers had not yet read their input up to
     * the present (the fifth long run blamed the registry for a stall of the routers' consumer group that began
     * two faults earlier).
     */
    static boolean registryStoppedDeliveries(Fault fault, double longestGlobalStallSeconds, boolean flowingBefore,
                                             double outageSeconds) {
        return fault.kind().equals("registry") && longestGlobalStallSeconds >= outageSeconds / 2 && flowingBefore
                && fault.routersCaughtUp();
    }
}
