package dev.agentevents.fanout;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The most recent records of one owned partition, bounded by count and by bytes, so resumes from a recent position
 * are served from memory. A record is kept as its frame when the feed made one (its user was connected), otherwise
 * as the record's bytes, read into a frame only when a resume asks for it (and then kept as that frame). Guarded by
 * its partition's lock.
 */
final class RecentFrames {

    /** One record kept: its frame, or until someone asks, its Avro bytes. */
    private static final class Kept {
        final long offset;
        final String userId;
        byte[] value;
        Frame frame;
        long weight;

        Kept(long offset, String userId, byte[] value, Frame frame) {
            this.offset = offset;
            this.userId = userId;
            this.value = frame == null ? value : null;
            this.frame = frame;
            this.weight = frame != null ? frame.weight() : 64L + (value == null ? 0 : value.length);
        }
    }

    private final int partition;
    private final int maxFrames;
    private final long maxBytes;
    private final FrameReader reader;
    private final ArrayDeque<Kept> kept = new ArrayDeque<>();
    private long bytes;

    RecentFrames(int partition, int maxFrames, long maxBytes, FrameReader reader) {
        this.partition = partition;
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
        this.reader = reader;
    }

    /** The record at {@code offset} of {@code userId}: its {@code frame}, or null and its {@code value} unread. */
    void add(long offset, String userId, byte[] value, Frame frame) {
        Kept record = new Kept(offset, userId, value, frame);
        kept.addLast(record);
        bytes += record.weight;
        trim();
    }

    private void trim() {
        while (!kept.isEmpty() && (kept.size() > maxFrames || bytes > maxBytes)) {
            bytes -= kept.removeFirst().weight;
        }
    }

    /** Offset of the oldest record kept, or -1 when empty. */
    long firstOffset() {
        return kept.isEmpty() ? -1 : kept.peekFirst().offset;
    }

    /** The user's frames after {@code offset}, oldest first, read from their bytes where not read yet. */
    List<Frame> after(long offset, String userId) {
        List<Frame> found = new ArrayList<>();
        for (Iterator<Kept> it = kept.descendingIterator(); it.hasNext(); ) {
            Kept record = it.next();
            if (record.offset <= offset) {
                break;
            }
            if (record.userId.equals(userId)) {
                if (record.frame == null) {
                    record.frame = reader.read(partition, record.offset, userId, record.value);
                    record.value = null;
                    bytes += record.frame.weight() - record.weight;
                    record.weight = record.frame.weight();
                }
                found.add(record.frame);
            }
        }
        // a frame is bigger than its Avro bytes: what memory holds may now be over the bound
        trim();
        Collections.reverse(found);
        return found;
    }

    int size() {
        return kept.size();
    }

    long bytes() {
        return bytes;
    }
}
