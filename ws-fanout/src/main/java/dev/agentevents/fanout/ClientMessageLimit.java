package dev.agentevents.fanout;

/**
 * What a client may send over its WebSocket: text messages up to {@code FANOUT_MAX_CLIENT_FRAME_BYTES}, at most
 * {@code FANOUT_MAX_CLIENT_MESSAGES_PER_SECOND} in any one-second window, no binary frames. Not thread-safe (one
 * per connection, on its event loop).
 */
final class ClientMessageLimit {

    /** The answer to one client message. */
    enum Verdict {
        ACCEPTED, TOO_LARGE, TOO_MANY, BINARY, ALREADY_REFUSED
    }

    private final int maxBytes;
    private final int perSecond;
    private long windowStart = System.currentTimeMillis();
    private int count;
    private boolean refused;

    ClientMessageLimit(int maxBytes, int perSecond) {
        this.maxBytes = maxBytes;
        this.perSecond = perSecond;
    }

    Verdict text(String message) {
        if (refused) {
            return Verdict.ALREADY_REFUSED; // closed for an earlier message; the rest still in flight changes nothing
        }
        if (message.length() > maxBytes) {
            refused = true;
            return Verdict.TOO_LARGE;
        }
        long now = System.currentTimeMillis();
        if (now - windowStart >= 1000) {
            windowStart = now;
            count = 0;
        }
        if (++count > perSecond) {
            refused = true;
            return Verdict.TOO_MANY;
        }
        return Verdict.ACCEPTED;
    }

    Verdict binary() {
        if (refused) {
            return Verdict.ALREADY_REFUSED;
        }
        refused = true;
        return Verdict.BINARY;
    }
}
