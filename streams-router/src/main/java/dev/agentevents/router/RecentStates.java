package dev.agentevents.router;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;

/**
 * The decoded states of the runs one task touched most recently, exactly as last written to its store (the task's
 * processor is the store's only writer), so a busy run is not decoded again for each of its events. Bounded by count
 * and by the states' encoded bytes, so runs at {@code ROUTER_MAX_RUN_STATE_BYTES} cannot make it large. Not
 * thread-safe (one per task).
 */
final class RecentStates {

    private record Entry(RunState state, int bytes) {
    }

    private final int maxEntries;
    private final long maxBytes;
    private final LinkedHashMap<Bytes, Entry> entries = new LinkedHashMap<>(1024, 0.75f, true);
    private long bytes;

    RecentStates(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    RunState get(Bytes runKey) {
        Entry entry = entries.get(runKey);
        return entry == null ? null : entry.state();
    }

    /** Remembers {@code state}, which takes {@code encodedBytes} in the store, and forgets the least recent beyond the bounds. */
    void put(Bytes runKey, RunState state, int encodedBytes) {
        Entry previous = entries.put(runKey, new Entry(state, encodedBytes));
        bytes += encodedBytes - (previous == null ? 0 : previous.bytes());
        Iterator<Map.Entry<Bytes, Entry>> eldest = entries.entrySet().iterator();
        while ((entries.size() > maxEntries || bytes > maxBytes) && eldest.hasNext()) {
            bytes -= eldest.next().getValue().bytes();
            eldest.remove();
        }
    }

    void remove(Bytes runKey) {
        Entry removed = entries.remove(runKey);
        if (removed != null) {
            bytes -= removed.bytes();
        }
    }

    void clear() {
        entries.clear();
        bytes = 0;
    }

    int size() {
        return entries.size();
    }
}
