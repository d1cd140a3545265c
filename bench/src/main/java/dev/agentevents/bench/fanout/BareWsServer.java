package dev.agentevents.bench.fanout;

import dev.agentevents.bench.Pacer;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling of the fanout benchmark: a bare Vert.x WebSocket server (same event loops and transport as a fanout
 * node) that pushes the same frames to its sockets, round robin, with no Kafka behind it — at a fixed rate, or as
 * fast as the sockets take them.
 */
final class BareWsServer implements AutoCloseable {

    private final Vertx vertx;
    private final HttpServer server;
    private final List<ServerWebSocket> sockets = new CopyOnWriteArrayList<>();
    private final FrameTemplate frames;
    private Thread pusher;

    BareWsServer(FrameTemplate frames) throws Exception {
        this.frames = frames;
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true));
        server = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true))
                .webSocketHandler(socket -> {
                    sockets.add(socket);
                    socket.closeHandler(v -> sockets.remove(socket));
                    socket.writeTextMessage("{\"type\":\"welcome\"}");
                })
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    String url() {
        return "ws://127.0.0.1:" + server.actualPort() + "/ws";
    }

    /** Pushes frames at {@code rate} per second (0: as fast as the sockets' write queues allow) until stopped. */
    void push(double rate) {
        stopPushing();
        pusher = new Thread(() -> {
            Pacer pacer = new Pacer(rate);
            long sequence = 0;
            int cursor = 0;
            while (!Thread.currentThread().isInterrupted()) {
                if (sockets.isEmpty()) {
                    Thread.onSpinWait();
                    continue;
                }
                cursor = (cursor + 1) % sockets.size();
                ServerWebSocket socket = sockets.get(cursor);
                if (rate <= 0 && socket.writeQueueFull()) {
                    continue;
                }
                pacer.await();
                socket.writeTextMessage(frames.frame(sequence++, System.currentTimeMillis()));
            }
        }, "bare-ws-pusher");
        pusher.start();
    }

    void stopPushing() {
        if (pusher != null) {
            pusher.interrupt();
            try {
                pusher.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pusher = null;
        }
    }

    int connections() {
        return sockets.size();
    }

    @Override
    public void close() throws Exception {
        stopPushing();
        vertx.close().await(20, TimeUnit.SECONDS);
    }
}
