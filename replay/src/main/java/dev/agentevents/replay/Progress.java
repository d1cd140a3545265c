package dev.agentevents.replay;

import java.io.PrintStream;

/** A one-line progress bar on stderr: records read of the estimated total, rate, matched so far. */
final class Progress {

    private final PrintStream out;
    private final boolean enabled;
    private final long started = System.nanoTime();
    private long lastDrawn;
    private long total;

    Progress(PrintStream out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
    }

    void total(long estimate) {
        this.total = estimate;
    }

    void update(long read, long matched) {
        long now = System.nanoTime();
        if (!enabled || now - lastDrawn < 250_000_000L) {
            return;
        }
        lastDrawn = now;
        draw(read, matched);
    }

    private void draw(long read, long matched) {
        double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
        int width = 30;
        int filled = total <= 0 ? width : (int) Math.min(width, width * read / total);
        out.printf("\r[%s%s] %,d/%,d records  %,.0f/s  %,d matched ", "#".repeat(filled), ".".repeat(width - filled),
                read, total, read / seconds, matched);
        out.flush();
    }

    void finish(long read, long matched) {
        if (enabled) {
            draw(read, matched);
            out.println();
        }
    }

    double elapsedSeconds() {
        return (System.nanoTime() - started) / 1e9;
    }
}
