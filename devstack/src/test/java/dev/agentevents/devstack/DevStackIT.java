package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import dev.agentevents.testing.Browsers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command as a new user meets it: the devstack jar as its own process, READY, a token from
 * {@code /dev/token}, a complete run over a real WebSocket, and the demo page in Chromium.
 */
@Tag("slow")
class DevStackIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void shouldStreamACompleteRunToASignedInUserOverAWebSocketAndTheDemoPage(@TempDir Path dir) throws Exception {
        int port = freePort();
        int second = freePort();
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", "target/agent-events-devstack.jar", "--data-dir", dir.resolve("data").toString(),
                "--rate", "40", "--port", Integer.toString(port), "--second-port", Integer.toString(second),
                "--kafka-port", Integer.toString(freePort()), "--registry-port", Integer.toString(freePort()),
                "--router-port", Integer.toString(freePort()))
                .redirectError(dir.resolve("stderr.log").toFile()).start();
        try {
            String ready = readyLine(process);
            assertThat(ready).isEqualTo("READY http://127.0.0.1:" + port + "/ http://127.0.0.1:" + second + "/");
            assertThat(Files.readString(dir.resolve("stderr.log"))).contains("[1/7").contains("[6/7 ")
                    .contains("warming up").contains("[7/7");

            HttpClient http = HttpClient.newHttpClient();
            String token = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + port + "/dev/token?user=alice")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).get("token").asText();
            JsonNode route = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + second + "/route")).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            List<JsonNode> frames = new CopyOnWriteArrayList<>();
            WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(route.get("url").asText()
                    + "?access_token=" + token), new Collector(frames)).get(10, TimeUnit.SECONDS);

            List<JsonNode> run = awaitCompleteRun(frames, 90);
            socket.abort();
            assertThat(run.get(0).get("type").asText()).isEqualTo("agent_started");
            assertThat(run).allMatch(e -> e.get("userId").asText().equals("alice"));
            for (int i = 0; i < run.size(); i++) {
                assertThat(run.get(i).get("seq").asLong()).isEqualTo(i);
            }
            assertThat(run.get(run.size() - 1).get("type").asText()).isIn("agent_completed", "agent_failed");

            try (Playwright playwright = Playwright.create(); Browser browser = Browsers.chromium(playwright)) {
                List<String> errors = Browsers.errors();
                Page page = Browsers.page(browser, errors);
                page.navigate("http://127.0.0.1:" + port + "/");
                page.click("button[data-user=bob]");
                Locator done = page.locator("article.run [data-testid=status]:not(.running)").first();
                PlaywrightAssertions.assertThat(done).isVisible(new LocatorAssertions.IsVisibleOptions()
                        .setTimeout(90_000));
                page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "devstack-demo.png")));
                assertThat(errors).as("script errors on the demo page").isEmpty();
            }
        } finally {
            process.destroy();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s of SIGTERM").isTrue();
        }
        assertThat(Files.readString(dir.resolve("stderr.log"))).contains("stopping ...").contains("stopped");
    }

    private static String readyLine(Process process) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY")) {
                        return line;
                    }
                }
                return "exited before READY";
            } catch (IOException e) {
                return e.toString();
            }
        });
        return ready.get(90, TimeUnit.SECONDS);
    }

    /** The first run whose every event from seq 0 to its terminal one arrived. */
    private static List<JsonNode> awaitCompleteRun(List<JsonNode> frames, int seconds) {
        return Awaitility.await("a complete run among the frames").atMost(Duration.ofSeconds(seconds))
                .pollInterval(Duration.ofMillis(200)).until(() -> completeRun(frames), Optional::isPresent).get();
    }

    private static Optional<List<JsonNode>> completeRun(List<JsonNode> frames) {
        Map<String, List<JsonNode>> runs = new java.util.LinkedHashMap<>();
        for (JsonNode frame : List.copyOf(frames)) {
            if (frame.get("type").asText().equals("event")) {
                JsonNode event = frame.get("event");
                runs.computeIfAbsent(event.get("runId").asText(), k -> new ArrayList<>()).add(event);
            }
        }
        return runs.values().stream().filter(run -> run.get(0).get("seq").asLong() == 0
                && List.of("agent_completed", "agent_failed").contains(run.get(run.size() - 1).get("type").asText()))
                .findFirst();
    }

    private record Collector(List<JsonNode> frames) implements WebSocket.Listener {
        private static final StringBuilder PARTIAL = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            synchronized (PARTIAL) {
                PARTIAL.append(data);
                if (last) {
                    try {
                        frames.add(JSON.readTree(PARTIAL.toString()));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                    PARTIAL.setLength(0);
                }
            }
            webSocket.request(1);
            return null;
        }
    }
}
