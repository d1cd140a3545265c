package dev.agentevents.router;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.common.utils.Bytes;

/**
 * The time each run next needs the sweep, ordered by that time: the sweep takes what is due instead of reading every
 * run. One entry per run, the earliest set since the sweep last took it. Not thread-safe (one per task).
 */
final class Deadlines {

    private record Due(long atMs, Bytes runKey) implements Comparable<Due> {
        @Override
        public int compareTo(Due other) {
            int byTime = Long.compare(atMs, other.atMs);
            return byTime != 0 ? byTime : runKey.compareTo(other.runKey);
        }
    }

    private final TreeSet<Due> byTime = new TreeSet<>();
    private final Map<Bytes, Due> byRun = new HashMap<>();

    /**
     * Makes {@code atMs} the run's deadline unless it already has one at or before it: a deadline only moves earlier.
     * Every event of a run pushes its abandonment later, and moving the entry each time would cost more than the
     * sweep looking at the run once too early, which it must do anyway (it re-checks each due run and sets its
     * deadline again).
     */
    void set(Bytes runKey, long atMs) {
        Due previous = byRun.get(runKey);
        if (previous != null) {
            if (previous.atMs() <= atMs) {
                return;
            }
            byTime.remove(previous);
        }
        Due due = new Due(atMs, runKey);
        byTime.add(due);
        byRun.put(runKey, due);
    }

    /**
     * Removes and returns the runs whose deadline is at or before {@code nowMs}, earliest first, at most {@code limit}
     * of them; the rest stay due for the next call.
     */
    List<Bytes> due(long nowMs, int limit) {
        List<Bytes> due = new ArrayList<>();
        while (!byTime.isEmpty() && byTime.first().atMs() <= nowMs && due.size() < limit) {
            Due first = byTime.pollFirst();
            byRun.remove(first.runKey());
            due.add(first.runKey());
        }
        return due;
    }

    int size() {
        return byRun.size();
    }

    void clear() {
        byTime.clear();
        byRun.clear();
    }
}
