package dev.agentevents.fanout;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A Server-Sent Events client for tests, on the JDK's HTTP client. */
final class SseClient implements AutoCloseable {

    private final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    private final List<String> ids = new CopyOnWriteArrayList<>();
    private final InputStream body;
    private final Thread reader;
    volatile boolean ended;

    private SseClient(InputStream body) {
        this.body = body;
        this.reader = new Thread(this::read, "sse-test-reader");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    static SseClient open(FanoutNode node, String token, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.httpUrl() + "/events"))
                .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new AssertionError("SSE answered HTTP " + response.statusCode());
        }
        return new SseClient(response.body());
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("id: ")) {
                    ids.add(line.substring(4));
                } else if (line.startsWith("data: ")) {
                    frames.add(new JsonObject(line.substring(6)));
                }
            }
            ended = true;
        } catch (Exception e) {
            // closed by the test
        }
    }

    List<JsonObject> frames() {
        return new ArrayList<>(frames);
    }

    List<String> ids() {
        return new ArrayList<>(ids);
    }

    String lastId() {
        return ids.get(ids.size() - 1);
    }

    /** Waits until at least {@code count} frames arrived; a timeout names the frames that did. */
    void awaitFrames(int count, Duration timeout) {
        Arrivals.awaitAtLeast("frames", () -> frames, count, timeout);
    }

    /** Asserts that no further frame arrives for {@code quiet}. */
    void assertNoFrameFor(Duration quiet) {
        Arrivals.assertNoneAddedFor(quiet, frames);
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
