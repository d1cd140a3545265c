package dev.agentevents.fanout;

import io.vertx.core.Context;
import io.vertx.core.streams.WriteStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One client connection (WebSocket or SSE) of one user: which of the user's frames it wants (optionally one run or
 * one thread), the position it has been sent up to, and a bounded queue in front of the socket. Frames arrive from
 * the Kafka thread, which hands each straight to the socket while nothing is queued and the socket takes more;
 * otherwise they wait in the queue, which the connection's own event loop drains as fast as the socket does. A client
 * that lets more than the configured frames or bytes pile up is closed with 4008 and resumes later: one slow
 * client never delays another or grows memory without bound.
 */
final class Subscriber {

    /**
     * The socket or event stream under a subscriber: how a frame is written, whether the connection is still open
     * and how it is closed differ (WebSocket, SSE); backpressure is the stream's own. A connection can be closed
     * before its close handler runs (the peer's close frame arrived, or this node closed it): nothing is written or
     * asked of the stream then. With {@code anyThread} the sender may be called from the feed's thread (it only
     * hands bytes to Vert.x, which moves them to the socket's event loop and flushes once per batch); otherwise
     * everything happens on the subscriber's event loop.
     */
    record Transport(WriteStream<?> stream, Consumer<Frame> sender, BooleanSupplier open,
                     BiConsumer<Short, String> closer, boolean anyThread) {

        boolean isOpen() {
            return open.getAsBoolean();
        }

        void send(Frame frame) {
            sender.accept(frame);
        }

        boolean writeQueueFull() {
            return stream.writeQueueFull();
        }

        void drainHandler(Runnable handler) {
            stream.drainHandler(v -> handler.run());
        }

        void close(short code, String reason) {
            if (isOpen()) {
                closer.accept(code, reason);
            }
        }
    }

    static final short TOO_SLOW = 4008;
    static final short MOVED = 4009;

    final String userId;
    final int partition;
    private final String runFilter;
    private final String threadFilter;
    private final Context context;
    private final Transport transport;
    private final FanoutMetrics metrics;
    private final int maxFrames;
    private final long maxBytes;

    private final ArrayDeque<Frame> queue = new ArrayDeque<>(4); // grows under load; small while idle
    private long queuedBytes;
    private long lastQueuedOffset = -1;
    private List<Frame> held;
    private boolean drainScheduled;
    private boolean waitingForSocket;
    private boolean closed;
    private short closeCode;
    private String closeReason;
    private Runnable onClosed = () -> { };

    Subscriber(String userId, int partition, String runFilter, String threadFilter, Context context,
               Transport transport, FanoutMetrics metrics, int maxFrames, long maxBytes) {
        this.userId = userId;
        this.partition = partition;
        this.runFilter = runFilter;
        this.threadFilter = threadFilter;
        this.context = context;
        this.transport = transport;
        this.metrics = metrics;
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
    }

    void onClosed(Runnable action) {
        this.onClosed = action;
    }

    private boolean wants(Frame frame) {
        // a frame of no known run (an undecodable record of the user) concerns every filter
        return frame.runId() == null || ((runFilter == null || runFilter.equals(frame.runId()))
                && (threadFilter == null || threadFilter.equals(frame.threadId())));
    }

    /** Sets the position this subscriber starts after: frames at or before it are not sent. */
    synchronized void startAfter(long offset) {
        lastQueuedOffset = offset;
    }

    synchronized long lastQueuedOffset() {
        return lastQueuedOffset;
    }

    /** Live frames wait until {@link #release} while older frames are fetched from Kafka. */
    synchronized void hold() {
        held = new ArrayList<>();
    }

    /** A frame of this subscriber's user; any thread. */
    void offer(Frame frame) {
        if (!wants(frame)) {
            return;
        }
        boolean schedule;
        synchronized (this) {
            if (closed || frame.offset() <= lastQueuedOffset) {
                return;
            }
            if (held != null) {
                held.add(frame);
                if (held.size() > maxFrames) {
                    tooSlow();
                }
                return;
            }
            if (writableFromHere()) {
                // nothing queued ahead of it and the socket takes more: straight to the socket, under the lock so
                // that nothing queued after it can overtake it
                lastQueuedOffset = frame.offset();
                try {
                    write(frame);
                } catch (RuntimeException e) {
                    // closed under us: its close handler follows
                }
                return;
            }
            schedule = enqueue(frame);
        }
        if (schedule) {
            context.runOnContext(v -> drain());
        }
    }

    /**
     * Whether a frame may be written at once from this thread: the transport allows it, this is not an event loop
     * (whose writes Vert.x would flush one by one), nothing waits in the queue or for the socket, and the socket is
     * open and takes more. Caller holds the lock.
     */
    private boolean writableFromHere() {
        if (!transport.anyThread() || !queue.isEmpty() || drainScheduled || waitingForSocket
                || Context.isOnVertxThread()) {
            return false;
        }
        try {
            return transport.isOpen() && !transport.writeQueueFull();
        } catch (RuntimeException e) {
            return false; // closed between the two questions: the queue and the drain deal with it
        }
    }

    /** A control frame (welcome, reset): always sent, in order with the rest. */
    void control(Frame frame) {
        boolean schedule;
        synchronized (this) {
            if (closed) {
                return;
            }
            schedule = enqueue(frame);
        }
        if (schedule) {
            context.runOnContext(v -> drain());
        }
    }

    /** Frames read back from Kafka; true while the queue has room for more soon. */
    boolean offerCatchup(List<Frame> frames) {
        boolean schedule = false;
        synchronized (this) {
            if (closed) {
                return false;
            }
            for (Frame frame : frames) {
                if (wants(frame) && frame.offset() > lastQueuedOffset) {
                    schedule |= enqueue(frame);
                }
            }
        }
        if (schedule) {
            context.runOnContext(v -> drain());
        }
        return !isClosed();
    }

    /** Whether the queue is under half full: the catch-up reader waits for this between batches. */
    synchronized boolean hasRoom() {
        return closed || queue.size() < maxFrames / 2;
    }

    /** Ends holding: what arrived live meanwhile follows, skipping what catch-up already sent. */
    void release() {
        boolean schedule = false;
        synchronized (this) {
            List<Frame> live = held;
            held = null;
            if (closed || live == null) {
                return;
            }
            for (Frame frame : live) {
                if (frame.offset() > lastQueuedOffset) {
                    schedule |= enqueue(frame);
                }
            }
        }
        if (schedule) {
            context.runOnContext(v -> drain());
        }
    }

    /** Sends {@code last} (if not null) after everything queued, then closes with {@code code}. */
    void closeAfter(Frame last, short code, String reason) {
        boolean schedule;
        synchronized (this) {
            if (closed) {
                return;
            }
            held = null;
            if (last != null) {
                queue.addLast(last);
            }
            closed = true;
            closeCode = code;
            closeReason = reason;
            schedule = !drainScheduled && !waitingForSocket;
            drainScheduled |= schedule;
        }
        if (schedule) {
            context.runOnContext(v -> drain());
        }
    }

    /**
     * Closes with {@code code} at once, dropping what is queued: for a connection that must end now whether or not
     * its socket drains (its token expired, its catch-up failed).
     */
    void closeNow(short code, String reason) {
        synchronized (this) {
            if (closed && closeReason == null) {
                return; // already closed, or closing for good
            }
            queue.clear();
            queuedBytes = 0;
            held = null;
            closed = true;
            closeReason = null;
        }
        context.runOnContext(v -> {
            transport.close(code, reason);
            onClosed.run();
        });
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Adds to the queue; true when a drain must be scheduled. Caller holds the lock. */
    private boolean enqueue(Frame frame) {
        queue.addLast(frame);
        queuedBytes += frame.weight();
        if (frame.hasPosition()) {
            lastQueuedOffset = frame.offset();
        }
        if (queue.size() > maxFrames || queuedBytes > maxBytes) {
            tooSlow();
            return false;
        }
        if (drainScheduled || waitingForSocket) {
            return false;
        }
        drainScheduled = true;
        return true;
    }

    /** Caller holds the lock. */
    private void tooSlow() {
        int dropped = queue.size() + (held == null ? 0 : held.size());
        queue.clear();
        queuedBytes = 0;
        held = null;
        closed = true;
        metrics.dropped(FanoutMetrics.DropReason.SLOW_CLIENT, dropped);
        context.runOnContext(v -> {
            transport.close(TOO_SLOW, "too slow; resume from your last position");
            onClosed.run();
        });
    }

    /** Writes queued frames while the socket takes them; on the subscriber's event loop. */
    private void drain() {
        while (true) {
            Frame next;
            synchronized (this) {
                if (!transport.isOpen()) {
                    // closed under us: the close handler follows and unregisters this subscriber
                    drainScheduled = false;
                    closed = true;
                    queue.clear();
                    queuedBytes = 0;
                    return;
                }
                if (transport.writeQueueFull()) {
                    waitingForSocket = true;
                    drainScheduled = false;
                    transport.drainHandler(this::socketDrained);
                    return;
                }
                next = queue.pollFirst();
                if (next == null) {
                    drainScheduled = false;
                    if (closed && closeReason != null) {
                        short code = closeCode;
                        String reason = closeReason;
                        closeReason = null;
                        transport.close(code, reason);
                        onClosed.run();
                    }
                    return;
                }
                queuedBytes -= next.weight();
            }
            write(next);
        }
    }

    /** Writes {@code frame} to the socket, counting it delivered when it is an event or gap. */
    private void write(Frame frame) {
        transport.send(frame);
        if (frame.hasPosition()) {
            metrics.delivered(frame.occurredAtMs());
        }
    }

    private void socketDrained() {
        synchronized (this) {
            waitingForSocket = false;
            if (drainScheduled) {
                return;
            }
            drainScheduled = true;
        }
        drain();
    }

    /** The connection went away (client closed, network): stop queueing for it. */
    void disconnected() {
        synchronized (this) {
            closed = true;
            queue.clear();
            queuedBytes = 0;
            held = null;
        }
        onClosed.run();
    }
}
