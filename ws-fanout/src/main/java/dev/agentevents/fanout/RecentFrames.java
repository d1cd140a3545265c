package dev.agentevents.fanout;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The most recent frames of one owned partition, bounded by count and by bytes, so resumes from a recent position
 * are served from memory. Guarded by its partition's lock.
 */
final class RecentFrames {

    private final int maxFrames;
    private final long maxBytes;
    private final ArrayDeque<Frame> frames = new ArrayDeque<>();
    private long bytes;

    RecentFrames(int maxFrames, long maxBytes) {
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
    }

    void add(Frame frame) {
        frames.addLast(frame);
        bytes += frame.weight();
        while (!frames.isEmpty() && (frames.size() > maxFrames || bytes > maxBytes)) {
            bytes -= frames.removeFirst().weight();
        }
    }

    /** Offset of the oldest frame kept, or -1 when empty. */
    long firstOffset() {
        return frames.isEmpty() ? -1 : frames.peekFirst().offset();
    }

    /** The user's frames after {@code offset}, oldest first. */
    List<Frame> after(long offset, String userId) {
        List<Frame> found = new ArrayList<>();
        for (Iterator<Frame> it = frames.descendingIterator(); it.hasNext(); ) {
            Frame frame = it.next();
            if (frame.offset() <= offset) {
                break;
            }
            if (frame.userId().equals(userId)) {
                found.add(frame);
            }
        }
        java.util.Collections.reverse(found);
        return found;
    }

    int size() {
        return frames.size();
    }

    long bytes() {
        return bytes;
    }
}
