package dev.agentevents.bench;

import java.util.concurrent.locks.LockSupport;

/** Spaces calls out to {@code perSecond} a second (0 or less: no spacing); catches up after a stall, bounded. */
public final class Pacer {

    private final long intervalNanos;
    private long next = System.nanoTime();

    public Pacer(double perSecond) {
        this.intervalNanos = perSecond > 0 ? (long) (1e9 / perSecond) : 0;
    }

    public void await() {
        if (intervalNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        if (next - now > 0) {
            LockSupport.parkNanos(next - now);
        } else if (now - next > 100_000_000L) {
            next = now;
        }
        next += intervalNanos;
    }
}
