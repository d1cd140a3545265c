package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client that behaves like the browser client: asks any node's {@code /route}, connects there, keeps the last
 * position it processed, and on {@code moved} or any disconnect asks again and resumes from that position.
 * Deduplicates by position, as the browser client does.
 */
final class ResumingClient implements AutoCloseable {

    final List<JsonObject> events = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger duplicates = new AtomicInteger();
    private final Vertx vertx;
    private final List<String> routeUrls;
    private final String token;
    private final Thread loop;
    private volatile boolean running = true;
    private volatile String position;
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
                String url = new JsonObject(route.body()).getString("url") + "?access_token=" + token
                        + (position == null ? "" : "&resume=" + position);
                WsClient client = WsClient.connect(vertx, url);
                current = client;
                connections.incrementAndGet();
                int seen = 0;
                while (running && !client.closeCode.isDone()) {
                    seen = consume(client, seen);
                    Thread.sleep(10);
                }
                consume(client, seen);
                client.close();
                attempt = 0;
            } catch (Exception e) {
                attempt++;
                try {
                    Thread.sleep(Math.min(1000, 50L * attempt));
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private int consume(WsClient client, int seen) {
        List<JsonObject> frames = client.frames;
        for (int i = seen; i < frames.size(); i++) {
            JsonObject frame = frames.get(i);
            if ("event".equals(frame.getString("type"))) {
                String pos = frame.getString("pos");
                if (position != null && samePartitionNotAfter(pos, position)) {
                    duplicates.incrementAndGet();
                    continue;
                }
                position = pos;
                events.add(frame.getJsonObject("event"));
            }
        }
        return frames.size();
    }

    private static boolean samePartitionNotAfter(String pos, String last) {
        String[] a = pos.split(":");
        String[] b = last.split(":");
        return a[0].equals(b[0]) && Long.parseLong(a[1]) <= Long.parseLong(b[1]);
    }

    boolean await(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && events.size() < count) {
            Thread.sleep(20);
        }
        return events.size() >= count;
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
