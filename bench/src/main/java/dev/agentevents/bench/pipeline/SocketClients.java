package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.Meter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Real WebSocket clients, one per user: each parses every frame as JSON and records, for event frames, the time from
 * the event's {@code occurredAt} (set by the publisher) to now, on this JVM's clock.
 */
final class SocketClients implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final WebSocketClient client;
    private final List<ClientWebSocket> sockets = new ArrayList<>();

    SocketClients(int eventLoops) {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(true));
        client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
                .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
    }

    /** Connects one socket per user to {@code url} (token from {@code tokenOf}), parsing into {@code meter}. */
    void connect(String url, List<String> users, Function<String, String> tokenOf, Meter meter) throws Exception {
        List<Future<?>> connecting = new ArrayList<>();
        for (String user : users) {
            ClientWebSocket socket = client.webSocket();
            socket.textMessageHandler(text -> {
                try {
                    JsonNode frame = JSON.readTree(text);
                    if ("event".equals(frame.path("type").asText())) {
                        long created = frame.path("event").path("occurredAt").asLong();
                        meter.record((System.currentTimeMillis() - created) * 1000);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("unreadable frame: " + text, e);
                }
            });
            sockets.add(socket);
            connecting.add(socket.connect(new WebSocketConnectOptions().setAbsoluteURI(url + "?access_token="
                    + tokenOf.apply(user))));
            if (connecting.size() % 500 == 0) {
                Future.all(connecting).await(60, TimeUnit.SECONDS);
                connecting.clear();
            }
        }
        Future.all(connecting).await(60, TimeUnit.SECONDS);
    }

    int size() {
        return sockets.size();
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(20, TimeUnit.SECONDS);
    }
}
