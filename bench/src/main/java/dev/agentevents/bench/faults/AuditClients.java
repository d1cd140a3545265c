package dev.agentevents.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentevents.testing.StreamRules;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;

/**
 * One real WebSocket client per user that behaves as the browser client behind the deployment's entry point does —
 * route lookup at any node (the next one at once when a node does not answer), resume from the last position after
 * every disconnect (at once after {@code moved}, to the node it names if any, or 4008; else with jittered backoff),
 * dedupe by position and then by seq within each run — and records everything the fault audit needs: each event
 * shown (by id), events shown twice, events dropped because they came after a later one of their run (order
 * violations) or after its end, repeats the servers sent and the seq check dropped, events of other users, and
 * deliveries per 100 ms.
 */
final class AuditClients implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final int BUCKET_MS = 100;

    final Map<String, Client> clients = new ConcurrentHashMap<>();
    final AtomicLongArray deliveriesPer100Ms;
    final long startedAtMs = System.currentTimeMillis();
    private final Vertx vertx;
    private final WebSocketClient sockets;
    private final HttpClient http;
    private final List<String> nodes;
    private final Function<String, String> tokenOf;
    private volatile boolean running = true;

    AuditClients(List<String> users, List<String> nodeBaseUrls, Function<String, String> tokenOf, int maxSeconds) {
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        // Vert.x allows 50 WebSockets per server by default and queues the rest without a word: with more users
        // than that per node, the extra clients would sit connecting, blind, until a fault freed a slot
        this.sockets = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000));
        this.http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2000));
        this.nodes = nodeBaseUrls;
        this.tokenOf = tokenOf;
        this.deliveriesPer100Ms = new AtomicLongArray(maxSeconds * 10 + 100);
        for (String user : users) {
            Client client = new Client(user);
            clients.put(user, client);
            client.connect(0);
        }
    }

    /** What one user's client saw. */
    final class Client {
        final String user;
        final Map<String, Integer> received = new ConcurrentHashMap<>();
        private final StreamRules rules = new StreamRules();
        final Map<String, Boolean> ended = new ConcurrentHashMap<>();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong repeatsDropped = new AtomicLong();
        final AtomicLong orderViolations = new AtomicLong();
        final AtomicLong otherUsers = new AtomicLong();
        final AtomicLong gaps = new AtomicLong();
        final AtomicLong connections = new AtomicLong();
        /** Whether a {@code welcome} has told this client where its stream starts. */
        volatile boolean welcomed;
        /** Every event delivered, in order (written on the event loop, read under its lock). */
        final java.util.List<FaultAudit.Delivery> deliveries = new java.util.ArrayList<>();
        private int attempt;
        /** The node the last {@code moved} frame named (null: it named none), opened at once on the 4009 close. */
        private String movedTo;

        Client(String user) {
            this.user = user;
        }

        void connect(long delayMs) {
            if (!running) {
                return;
            }
            if (delayMs > 0) {
                vertx.setTimer(delayMs, t -> connect(0));
                return;
            }
            route(tokenOf.apply(user), ThreadLocalRandom.current().nextInt(nodes.size()), 1);
        }

        /**
         * Asks node {@code index} for the route; a node that does not answer is passed over for the next at once, as
         * the deployment's entry point does (nginx's {@code proxy_next_upstream error timeout}), and only when
         * {@code tried} reaches every node does the client back off.
         */
        private void route(String token, int index, int tried) {
            http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(nodes.get(index) + "route")
                            .putHeader("Authorization", "Bearer " + token).setTimeout(3000))
                    .compose(request -> request.send())
                    .compose(response -> response.body().map(body -> response.statusCode() == 200
                            ? new JsonObject(body).getString("url") : null))
                    .onComplete(route -> {
                        if (route.failed() && tried < nodes.size()) {
                            route(token, (index + 1) % nodes.size(), tried + 1);
                        } else if (route.failed() || route.result() == null) {
                            retry();
                        } else {
                            open(route.result(), token);
                        }
                    });
        }

        private void retry() {
            attempt++;
            long cap = Math.min(2000, 100L << Math.min(attempt, 5));
            connect(ThreadLocalRandom.current().nextLong(cap / 2, cap + 1));
        }

        private void open(String url, String token) {
            ClientWebSocket socket = sockets.webSocket();
            socket.textMessageHandler(this::frame);
            socket.closeHandler(v -> {
                Short code = socket.closeStatusCode();
                String next = movedTo;
                movedTo = null;
                if (code != null && code == 4009 && next != null) {
                    attempt = 0;
                    open(next, token); // as the browser client does: straight to the new owner, no /route
                } else if (code != null && (code == 4009 || code == 4008)) {
                    attempt = 0;
                    connect(0);
                } else {
                    retry();
                }
            });
            socket.connect(new WebSocketConnectOptions().setConnectTimeout(5000).setAbsoluteURI(url
                    + "?access_token=" + token + (rules.position() == null ? "" : "&resume=" + rules.position())))
                    .onSuccess(s -> {
                        connections.incrementAndGet();
                        attempt = 0;
                    })
                    .onFailure(e -> retry());
        }

        private void frame(String text) {
            JsonNode frame;
            try {
                frame = JSON.readTree(text);
            } catch (Exception e) {
                throw new IllegalStateException("unreadable frame " + text, e);
            }
            // the browser client's rules (StreamRules): by position, then by seq within the run; what they drop is
            // not shown
            StreamRules.Verdict verdict = rules.check(frame);
            switch (verdict.action()) {
                case CONTROL -> {
                    welcomed |= verdict.reason().equals("welcome");
                    if (verdict.reason().equals("moved")) {
                        movedTo = frame.path("url").textValue();
                    }
                    return;
                }
                case GAP -> {
                    gaps.incrementAndGet();
                    rules.commit(frame);
                    return;
                }
                case DROP -> {
                    countDrop(verdict.reason(), frame.path("event"));
                    if (!verdict.reason().equals("position")) {
                        rules.skip(frame);
                    }
                    return;
                }
                case DELIVER -> {
                    // delivered below
                }
            }
            JsonNode event = frame.path("event");
            rules.commit(frame);
            if (!user.equals(event.path("userId").asText())) {
                otherUsers.incrementAndGet();
                return;
            }
            String eventId = event.path("eventId").asText();
            if (received.merge(eventId, 1, Integer::sum) > 1) {
                duplicates.incrementAndGet();
            }
            String eventType = event.path("type").asText();
            if (eventType.equals("agent_completed") || eventType.equals("agent_failed")) {
                ended.put(event.path("runId").asText(), true);
            }
            long now = System.currentTimeMillis();
            long sinceStart = now - startedAtMs;
            long occurredAt = event.path("occurredAt").asLong(now);
            synchronized (deliveries) {
                deliveries.add(new FaultAudit.Delivery(sinceStart, Math.max(0, now - occurredAt)));
            }
            int bucket = (int) (sinceStart / BUCKET_MS);
            if (bucket < deliveriesPer100Ms.length()) {
                deliveriesPer100Ms.incrementAndGet(bucket);
            }
        }

        /** Why a frame was dropped, in the audit's terms. */
        private void countDrop(String reason, JsonNode event) {
            switch (reason) {
                case "seq" -> {
                    if (received.containsKey(event.path("eventId").asText())) {
                        repeatsDropped.incrementAndGet(); // sent again at a new position: harmless once dropped
                    } else {
                        orderViolations.incrementAndGet(); // arrived after a later event of its run: not shown
                    }
                }
                case "after-end" -> orderViolations.incrementAndGet(); // the browser client reports an error
                default -> { } // at or before the position: already processed
            }
        }

        /** Whether this client saw the terminal event of {@code runId}. */
        boolean sawEnd(String runId) {
            return ended.containsKey(runId);
        }
    }

    /**
     * Waits until every client has been welcomed, so each user is watching before their agents start: a fresh stream
     * starts at the live edge, and what was routed before a user's first connection is not theirs to be shown.
     */
    void awaitWelcomed(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> waiting = clients.values().stream().filter(c -> !c.welcomed).map(c -> c.user).toList();
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(waiting.size() + " clients were not welcomed within " + timeout
                        + ", e.g. " + waiting.get(0));
            }
            Thread.sleep(100);
        }
    }

    long delivered() {
        long total = 0;
        for (Client client : clients.values()) {
            total += client.received.size();
        }
        return total;
    }

    @Override
    public void close() throws Exception {
        running = false;
        vertx.close().await(20, TimeUnit.SECONDS);
    }
}
