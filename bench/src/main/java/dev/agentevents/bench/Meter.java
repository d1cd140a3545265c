package dev.agentevents.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts what arrives at the far end of a path and how long each took since its creation (microseconds, in an
 * HdrHistogram), window by window; a window also keeps the arrivals per second, for the throughput-over-time chart.
 */
public final class Meter {

    private static final long MAX_MICROS = 3_600_000_000L;

    private final Recorder recorder = new Recorder(MAX_MICROS, 3);
    private final LongAdder arrived = new LongAdder();

    /** One arrival that took {@code latencyMicros} (negative: unknown, counted only). */
    public void record(long latencyMicros) {
        arrived.increment();
        if (latencyMicros >= 0) {
            recorder.recordValue(Math.min(latencyMicros, MAX_MICROS));
        }
    }

    public long arrivals() {
        return arrived.sum();
    }

    /** Starts measuring now: what arrived before does not count. */
    public Window open() {
        recorder.getIntervalHistogram();
        return new Window(this);
    }

    /** What arrived between {@link #open} and {@link #close}. */
    public static final class Window {
        private final Meter meter;
        private final long startCount;
        private final long startNanos = System.nanoTime();
        private final List<Double> perSecond = new ArrayList<>();
        private long lastCount;
        private long lastNanos;

        private Window(Meter meter) {
            this.meter = meter;
            this.startCount = meter.arrivals();
            this.lastCount = startCount;
            this.lastNanos = startNanos;
        }

        /** Call about once a second: appends the rate since the previous tick. */
        void tick() {
            long now = System.nanoTime();
            long count = meter.arrivals();
            perSecond.add((count - lastCount) / ((now - lastNanos) / 1e9));
            lastCount = count;
            lastNanos = now;
        }

        Sample close() {
            long count = meter.arrivals() - startCount;
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            Histogram latency = meter.recorder.getIntervalHistogram();
            return new Sample(count, seconds, latency, List.copyOf(perSecond));
        }
    }

    /** Arrivals, their rate, their latency distribution (µs) and the rate second by second. */
    public record Sample(long count, double seconds, Histogram latency, List<Double> perSecond) {
        public double perSecondRate() {
            return count / seconds;
        }

        public double millis(double percentile) {
            return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(percentile) / 1000.0;
        }

        public double maxMillis() {
            return latency.getTotalCount() == 0 ? Double.NaN : latency.getMaxValue() / 1000.0;
        }
    }

    /** Runs {@code body} for {@code seconds}, ticking the window every second, and closes it. */
    public static Sample measure(Meter meter, double seconds) throws InterruptedException {
        Window window = meter.open();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            Thread.sleep(Math.max(1, Math.min(1000, (end - System.nanoTime()) / 1_000_000)));
            window.tick();
        }
        return window.close();
    }
}
