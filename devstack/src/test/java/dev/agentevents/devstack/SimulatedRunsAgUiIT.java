package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Thinking;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.fanout.FanoutNode;
import dev.agentevents.fanout.Hs256Tokens;
import dev.agentevents.producer.AgentRun;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.Published;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.producer.RunStart;
import dev.agentevents.router.RouterApp;
import dev.agentevents.router.RouterConfig;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every run the simulator plays through the real router — completed, failed part-way, and also runs the router closes
 * as ABANDONED or gives up on a missing seq for — passes {@code @ag-ui/client}'s {@code verifyEvents} and
 * {@code @ag-ui/core}'s schemas as the fanout node's AG-UI stream.
 */
@Tag("slow")
class SimulatedRunsAgUiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = Path.of("..", "ws-fanout", "src", "test", "js", "agui.mjs");
    private static final Path TOOLS = Path.of("..", "ws-fanout", "target", "js-tools").toAbsolutePath();
    private static final String SECRET = "simulated-runs-secret-that-is-long-enough";

    @Test
    void shouldStreamEverySimulatedAbandonedAndGappedRunAsVerifiedAgUi() throws Exception {
        assertThat(TOOLS.resolve("node_modules/@ag-ui/client")).as("ws-fanout's test tooling, installed by its build")
                .exists();
        EmbeddedStack stack = EmbeddedStack.shared();
        String prefix = "agui-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Topics topics = stack.topicsWithPrefix(prefix, 4);
        Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                "SCHEMA_REGISTRY_URL", stack.registryUrl(), "AGENT_EVENTS_TOPIC_PREFIX", prefix));
        Map<String, String> routerEnv = new HashMap<>(env);
        routerEnv.putAll(Map.of("ROUTER_APPLICATION_ID", prefix + "router", "ROUTER_HTTP_PORT", "0",
                "ROUTER_STATE_DIR", Files.createTempDirectory("agui-router").toString(),
                "ROUTER_GAP_TIMEOUT_MS", "1000", "ROUTER_ABANDON_AFTER_MS", "3000", "ROUTER_SWEEP_INTERVAL_MS", "200"));
        Map<String, String> fanoutEnv = new HashMap<>(env);
        fanoutEnv.putAll(Map.of("FANOUT_HOST", "127.0.0.1", "FANOUT_PORT", "0", "FANOUT_GROUP_ID", prefix + "fanout",
                "FANOUT_JWT_HS256_SECRET", SECRET));
        Set<String> runs = ConcurrentHashMap.newKeySet();
        Map<String, String> userOf = new ConcurrentHashMap<>();
        try (RouterApp router = RouterApp.start(RouterConfig.fromEnv(routerEnv));
             FanoutNode node = FanoutNode.start(FanoutConfig.fromEnv(fanoutEnv));
             EventPublisher publisher = EventPublisher.create(PublisherConfig.fromEnv(env))) {
            assertThat(router.awaitRunning(Duration.ofSeconds(60))).isTrue();
            assertThat(node.awaitPartitions(4, Duration.ofSeconds(60))).isTrue();
            try (AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(
                    AgentSimulator.Settings.users("sim-", 3), 300, 0.3, 2, 24, 11), new AgentSimulator.Listener() {
                        @Override
                        public void published(Published event) {
                            runs.add(event.runId());
                            userOf.put(event.runId(), event.userId());
                        }
                    }).start()) {
                assertThat(simulator.awaitFinished(Duration.ofSeconds(120))).isTrue();
            }
            AgentInfo agent = AgentInfo.newBuilder().setId("a").setName("A").setVersion("1").build();
            AgentRun abandoned = publisher.startRun(RunStart.of("sim-1", "thread-left", agent));
            abandoned.messageDelta("an answer that never ends").join();
            runs.add(abandoned.runId());
            userOf.put(abandoned.runId(), "sim-1");
            String gapped = "gapped-" + UUID.randomUUID();
            publishWithAMissingSeq(stack, topics, "sim-2", gapped, agent);
            runs.add(gapped);
            userOf.put(gapped, "sim-2");

            // every run's stream read and verified by one node process (one per run took 40 s); a run whose stream
            // has not reached its end yet is asked for again
            String base = "http://127.0.0.1:" + node.port();
            Map<String, JsonNode> streams = new HashMap<>();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                ArrayNode requests = JSON.createArrayNode();
                runs.stream().filter(run -> !streams.containsKey(run)).forEach(run -> requests.addObject()
                        .put("runId", run).put("token", Hs256Tokens.issue(SECRET, userOf.get(run),
                                Duration.ofMinutes(10))));
                for (JsonNode stream : script(requests.toString(), "runs", base).path("runs")) {
                    JsonNode events = stream.path("events");
                    String last = events.isEmpty() ? "" : events.get(events.size() - 1).path("event").path("type")
                            .asText();
                    if (last.equals("RUN_FINISHED") || last.equals("RUN_ERROR")) {
                        streams.put(stream.path("runId").asText(), stream);
                    }
                }
                return streams.size() == runs.size();
            });
            for (String run : runs) {
                JsonNode stream = streams.get(run);
                assertThat(stream.path("verified").asBoolean()).as("run %s: %s", run, stream).isTrue();
                ArrayNode events = JSON.createArrayNode();
                stream.path("events").forEach(e -> events.add(e.path("event")));
                if (run.equals(abandoned.runId())) {
                    assertThat(events.get(events.size() - 1).path("code").asText()).isEqualTo("ABANDONED");
                }
                if (run.equals(gapped)) {
                    assertThat(events.toString()).contains("agent-events.gap");
                }
            }
            assertThat(runs).hasSizeGreaterThanOrEqualTo(20);
        }
    }

    /** A run whose seq 2 never comes: the router gives up on it after its gap timeout. */
    private static void publishWithAMissingSeq(EmbeddedStack stack, Topics topics, String user, String runId,
                                               AgentInfo agent) throws Exception {
        AvroSerializer<AgentEvent> avro = new AvroSerializer<>(new SchemaRegistryClient(stack.registryUrl()), Map.of(),
                false);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                stack.bootstrapServers(), "acks", "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (long seq : new long[] {0, 1, 3}) {
                AgentEvent.Builder event = AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString())
                        .setUserId(user).setThreadId("thread-gap").setRunId(runId).setSeq(seq)
                        .setOccurredAt(Instant.now()).setAgent(agent);
                if (seq == 0) {
                    event.setType("agent_started");
                } else if (seq == 3) {
                    event.setType("agent_completed").setCompleted(new dev.agentevents.event.Completed("{}", null, null,
                            "stop"));
                } else {
                    event.setType("agent_thinking").setThinking(new Thinking("before the gap"));
                }
                producer.send(new ProducerRecord<>(topics.events(), user, avro.serialize(topics.events(),
                        event.build()))).get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static JsonNode script(String input, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("AGUI_TOOLS", TOOLS.toString());
        Process process = builder.start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return JSON.readTree(out.substring(out.lastIndexOf('\n') + 1));
    }
}
