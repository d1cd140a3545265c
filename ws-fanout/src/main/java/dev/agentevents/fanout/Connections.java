package dev.agentevents.fanout;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live connections of one event loop, for heartbeats and forced disconnects: each is pinged every interval and
 * closed once it has been silent (no pong) for two; counted per transport in {@code fanout_connections}.
 */
final class Connections {

    /** One live connection: its subscriber, how to ping it, how to cut it. */
    static final class Connection {
        final Subscriber subscriber;
        final FanoutMetrics.Transport transport;
        final Runnable ping;
        final Runnable kill;
        final Runnable gone;
        volatile long lastPongMs = System.currentTimeMillis();

        Connection(Subscriber subscriber, FanoutMetrics.Transport transport, Runnable ping, Runnable kill,
                   Runnable gone) {
            this.subscriber = subscriber;
            this.transport = transport;
            this.ping = ping;
            this.kill = kill;
            this.gone = gone;
        }

        void ponged() {
            lastPongMs = System.currentTimeMillis();
        }

        /** A connection whose transport has no pongs (SSE) is never closed for silence. */
        void neverSilent() {
            lastPongMs = Long.MAX_VALUE;
        }
    }

    private final FanoutMetrics metrics;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();

    Connections(FanoutMetrics metrics) {
        this.metrics = metrics;
    }

    /** Tracks a new connection; {@code gone} runs once it went away (its slots and timers are given back). */
    Connection track(Subscriber subscriber, FanoutMetrics.Transport transport, Runnable ping, Runnable kill,
                     Runnable gone) {
        Connection connection = new Connection(subscriber, transport, ping, kill, gone);
        live.add(connection);
        metrics.opened(transport);
        return connection;
    }

    /** The connection went away, whatever the reason. */
    void untrack(Connection connection) {
        if (live.remove(connection)) {
            metrics.closed(connection.transport);
            connection.gone.run();
        }
        connection.subscriber.disconnected();
    }

    void heartbeat(long intervalMs) {
        long now = System.currentTimeMillis();
        for (Connection connection : live) {
            if (now - connection.lastPongMs > 2 * intervalMs + 1000) {
                connection.kill.run();
            } else {
                connection.ping.run();
            }
        }
    }

    /** Closes every connection at once, as a crash or network cut would (tests and drills). */
    void disconnectAll() {
        live.forEach(connection -> connection.kill.run());
    }

    int count() {
        return live.size();
    }
}
