package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** A real WebSocket client for tests: collects every frame and the close code. */
final class WsClient implements AutoCloseable {

    final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    final CompletableFuture<Short> closeCode = new CompletableFuture<>();
    volatile String closeReason;
    final ClientWebSocket socket;
    private final WebSocketClient client;

    private WsClient(WebSocketClient client, ClientWebSocket socket) {
        this.client = client;
        this.socket = socket;
        // handlers go on before connecting, so no frame (nor an immediate close) can slip past them
        socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
        socket.closeHandler(v -> {
            closeReason = socket.closeReason();
            closeCode.complete(socket.closeStatusCode());
        });
    }

    static WsClient connect(Vertx vertx, String url, String origin) throws Exception {
        return connect(vertx, url, origin, java.util.Map.of());
    }

    /**
     * Connects with {@code headers} added to the upgrade request. When the node closes the socket together with its
     * upgrade answer, Vert.x's client can fail the connect ("WebSocket is closed") before any close handler runs, and
     * the close code is lost: then the same connect is tried again (at most three times), since a refusal answers
     * the same way each time.
     */
    static WsClient connect(Vertx vertx, String url, String origin, java.util.Map<String, String> headers)
            throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return connectOnce(vertx, url, origin, headers);
            } catch (IllegalStateException e) {
                if (attempt == 3 || !"WebSocket is closed".equals(e.getMessage())) {
                    throw e;
                }
            }
        }
    }

    private static WsClient connectOnce(Vertx vertx, String url, String origin, java.util.Map<String, String> headers)
            throws Exception {
        WebSocketClient client = vertx.createWebSocketClient();
        WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(url);
        if (origin != null) {
            options.addHeader("Origin", origin);
        }
        headers.forEach(options::addHeader);
        WsClient ws = new WsClient(client, client.webSocket());
        try {
            ws.socket.connect(options).await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // a node may close a refused socket before the client's connect completes: then the close is the answer
            if (!(e instanceof io.vertx.core.http.UpgradeRejectedException) && ws.closeCode.isDone()) {
                return ws;
            }
            if (e instanceof IllegalStateException && "WebSocket is closed".equals(e.getMessage())) {
                try {
                    ws.closeCode.get(1, TimeUnit.SECONDS);
                    return ws;
                } catch (Exception notClosedAfterAll) {
                    e.addSuppressed(notClosedAfterAll);
                }
            }
            client.close();
            throw e;
        }
        return ws;
    }

    static WsClient connect(Vertx vertx, String url) throws Exception {
        return connect(vertx, url, null);
    }

    static String url(FanoutNode node, String token, String query) {
        return "ws://127.0.0.1:" + node.port() + "/ws?access_token=" + token + (query == null ? "" : "&" + query);
    }

    List<JsonObject> ofType(String type) {
        List<JsonObject> matching = new ArrayList<>();
        for (JsonObject frame : frames) {
            if (type.equals(frame.getString("type"))) {
                matching.add(frame);
            }
        }
        return matching;
    }

    List<JsonObject> events() {
        return ofType("event").stream().map(f -> f.getJsonObject("event")).toList();
    }

    /** The last event frame's position. */
    String lastPosition() {
        List<JsonObject> events = ofType("event");
        return events.get(events.size() - 1).getString("pos");
    }

    /** Waits until a frame of {@code type} arrived; a timeout names the frames that did arrive. */
    void awaitFrame(String type, Duration timeout) {
        Awaitility.await("a " + type + " frame").atMost(timeout).pollInterval(Arrivals.POLL)
                .untilAsserted(() -> assertThat(frames).as("frames").anyMatch(f -> type.equals(f.getString("type"))));
    }

    /** Waits until at least {@code count} event frames arrived. */
    void awaitEvents(int count, Duration timeout) {
        Arrivals.awaitAtLeast("events", this::events, count, timeout);
    }

    /** Waits until {@code condition} holds; {@code what} names it in a timeout. */
    void await(String what, Predicate<WsClient> condition, Duration timeout) {
        Awaitility.await(what).atMost(timeout).pollInterval(Arrivals.POLL).until(() -> condition.test(this));
    }

    /** Asserts that none of {@code clients} receives a further frame for {@code quiet} (nothing more was sent). */
    static void assertNoFrameFor(Duration quiet, WsClient... clients) {
        Arrivals.assertNoneAddedFor(quiet, java.util.Arrays.stream(clients).map(c -> c.frames).toArray(List[]::new));
    }

    /** Asserts that the socket stays open for {@code period}. */
    void assertOpenFor(Duration period) {
        Awaitility.await("the socket open for " + period).during(period).atMost(period.plusSeconds(1))
                .pollInterval(Duration.ofMillis(100)).until(() -> !socket.isClosed());
    }

    short awaitClose(Duration timeout) throws Exception {
        return closeCode.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (!socket.isClosed()) {
            socket.close();
        }
        client.close();
    }
}
