package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.producer.AgentRun;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.producer.RunStart;
import dev.agentevents.producer.Usage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The multi-process local cluster starts, carries a run end to end across processes, and stops every process. */
class LocalClusterIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldCarryARunAcrossSeparateProcessesAndStopThemAll(@TempDir Path dir) throws Exception {
        List<LocalCluster.Service> services;
        try (LocalCluster cluster = LocalCluster.start(LocalCluster.Options.defaults(dir), step -> { })) {
            services = cluster.services();
            assertThat(services).extracting(LocalCluster.Service::name)
                    .containsExactly("registry", "router-1", "router-2", "fanout-1", "fanout-2");
            assertThat(services).allMatch(s -> s.pid().isPresent());
            assertThat(cluster.describe()).contains("kafka-3").contains("fanout-2");

            HttpClient http = HttpClient.newHttpClient();
            String fanout = cluster.service("fanout-1").address();
            String token = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(fanout + "dev/token?user=zoe"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body()).get("token").asText();
            String url = routeWithRetry(http, cluster.service("fanout-2").address(), token);
            List<JsonNode> events = new CopyOnWriteArrayList<>();
            WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(url + "?access_token=" + token),
                    new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                            try {
                                JsonNode frame = JSON.readTree(data.toString());
                                if (frame.get("type").asText().equals("event")) {
                                    events.add(frame.get("event"));
                                }
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                            ws.request(1);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);

            try (EventPublisher publisher = EventPublisher.create(PublisherConfig.of(cluster.bootstrapServers(),
                    cluster.registryUrl()))) {
                AgentRun run = publisher.startRun(RunStart.of("zoe", "thread-1", AgentInfo.newBuilder().setId("a")
                        .setName("Planner").setVersion("1").build()));
                run.thinking("across processes");
                run.toolExecuting("c1", "calculator", "{\"expression\":\"6*7\"}");
                run.toolCompleted("c1", "{\"value\":42}", false);
                run.completed("{\"answer\":42}", new Usage(5L, 1L, "stop")).get(60, TimeUnit.SECONDS);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (events.size() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            socket.abort();
            assertThat(events).extracting(e -> e.get("type").asText()).containsExactly("agent_started",
                    "agent_thinking", "tool_executing", "tool_completed", "agent_completed");
        }
        assertThat(services).allMatch(s -> !s.process().isAlive());
    }

    private static String routeWithRetry(HttpClient http, String node, String token) throws Exception {
        for (int attempt = 0; attempt < 60; attempt++) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "route"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                return JSON.readTree(response.body()).get("url").asText();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no route within 30 s");
    }
}
