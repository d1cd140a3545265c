package dev.agentevents.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentevents.testing.StreamRules;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;

/**
 * A client that behaves like the browser client: asks any node's {@code /route}, connects there, keeps the last
 * position it processed, and on {@code moved} or any disconnect asks again and resumes from that position with a
 * fresh ticket. Follows the protocol's stream rules as the browser client does ({@link StreamRules}).
 */
final class ResumingClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    final List<JsonObject> events = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger duplicates = new AtomicInteger();
    private final Vertx vertx;
    private final List<String> routeUrls;
    private final String token;
    private final Thread loop;
    private volatile boolean running = true;
    private final StreamRules rules = new StreamRules();
    private volatile WsClient current;

    ResumingClient(Vertx vertx, List<String> routeUrls, String token) {
        this.vertx = vertx;
        this.routeUrls = routeUrls;
        this.token = token;
        this.loop = new Thread(this::run, "resuming-client");
        this.loop.setDaemon(true);
        this.loop.start();
    }

    private void run() {
        HttpClient http = HttpClient.newHttpClient();
        int attempt = 0;
        while (running) {
            try {
                String base = routeUrls.get(attempt % routeUrls.size());
                HttpResponse<String> route = http.send(HttpRequest.newBuilder(URI.create(base + "/route"))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (route.statusCode() != 200) {
                    throw new IllegalStateException("route answered " + route.statusCode());
                }
                JsonObject answer = new JsonObject(route.body());
                String position = rules.position();
                String url = answer.getString("url") + "?ticket=" + answer.getString("ticket")
                        + (position == null ? "" : "&resume=" + position);
                WsClient client = WsClient.connect(vertx, url);
                current = client;
                connections.incrementAndGet();
                int seen = 0;
                while (running && !client.closeCode.isDone()) {
                    seen = consume(client, seen);
                    try {
                        client.closeCode.get(10, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException stillOpen) {
                        // read what arrived meanwhile
                    }
                }
                consume(client, seen);
                client.close();
                attempt = 0;
            } catch (Exception e) {
                attempt++;
                try {
                    Thread.sleep(Math.min(1000, 50L * attempt)); // the client's backoff, as the browser client's
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private int consume(WsClient client, int seen) {
        List<JsonObject> frames = client.frames;
        for (int i = seen; i < frames.size(); i++) {
            JsonNode frame = JSON.valueToTree(frames.get(i).getMap());
            StreamRules.Verdict verdict = rules.check(frame);
            if (verdict.action() == StreamRules.Action.DROP) {
                duplicates.incrementAndGet();
                if (!verdict.reason().equals("position")) {
                    rules.skip(frame);
                }
            } else if (verdict.action() == StreamRules.Action.GAP) {
                rules.commit(frame);
            } else if (verdict.action() == StreamRules.Action.DELIVER) {
                rules.commit(frame);
                events.add(frames.get(i).getJsonObject("event"));
            }
        }
        return frames.size();
    }

    /** Waits until the client holds a socket the node welcomed. */
    void awaitWelcomed(Duration timeout) {
        Awaitility.await("a welcomed connection").atMost(timeout).pollInterval(Arrivals.POLL)
                .until(() -> current != null && !current.ofType("welcome").isEmpty());
    }

    /** Waits until at least {@code count} events were delivered; a timeout names those that were. */
    void awaitEvents(int count, Duration timeout) {
        Arrivals.awaitAtLeast("events", () -> events, count, timeout);
    }

    /** Asserts that no further event is delivered for {@code quiet}. */
    void assertNoEventFor(Duration quiet) {
        Arrivals.assertNoneAddedFor(quiet, events);
    }

    @Override
    public void close() {
        running = false;
        WsClient client = current;
        if (client != null) {
            client.close();
        }
        try {
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
