package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Failed;
import dev.agentevents.event.MessageDelta;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs as AG-UI event streams, consumed by a stock AG-UI client ({@code @ag-ui/client}'s {@code HttpAgent}, and a
 * plain SSE reader) with every event checked by {@code @ag-ui/core}'s schemas and the client's own
 * {@code verifyEvents}, against a real node on the real broker.
 */
@Tag("slow")
class AgUiStreamTest {

    private static final Path SCRIPT = Path.of("src", "test", "js", "agui.mjs");
    private static final Path TOOLS = Path.of("target", "js-tools").toAbsolutePath();
    private FanoutFixture fixture;
    private final Tokens tokens = new Tokens(null);

    @BeforeEach
    void start() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    private static ProcessBuilder env(ProcessBuilder builder) {
        builder.environment().put("AGUI_TOOLS", TOOLS.toString());
        return builder;
    }

    private static JsonObject agent(FanoutNode node, String token, String threadId, String runId) throws Exception {
        return run(null, "agent", node.httpUrl(), token, threadId, runId);
    }

    private static JsonObject run(String input, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = env(new ProcessBuilder(command));
        Process process = builder.start();
        try (OutputStream in = process.getOutputStream()) {
            if (input != null) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(process.waitFor(90, TimeUnit.SECONDS)).as("node %s finished", List.of(args)).isTrue();
        String text = out.get(5, TimeUnit.SECONDS).trim();
        assertThat(text).as("the script's answer; stderr: %s", err.get(5, TimeUnit.SECONDS)).isNotEmpty();
        JsonObject answer = new JsonObject(text.substring(text.lastIndexOf('\n') + 1));
        assertThat(answer.containsKey("error")).as("the script failed: %s", answer.getString("error")).isFalse();
        return answer;
    }

    private static List<String> types(JsonArray events) {
        List<String> types = new ArrayList<>();
        events.forEach(e -> types.add(((JsonObject) e).getString("type")));
        return types;
    }

    /** A run with reasoning, two tool calls (one an error) and streamed text. */
    private static List<AgentEvent> richRun(String user, String runId) {
        List<AgentEvent> events = new ArrayList<>();
        events.add(FanoutFixture.event(user, runId, 0, "agent_started").build());
        events.add(FanoutFixture.event(user, runId, 1, "agent_thinking").setThinking(new Thinking("Plan first."))
                .build());
        events.add(FanoutFixture.event(user, runId, 2, "agent_message_delta")
                .setMessageDelta(new MessageDelta("Let me ")).build());
        events.add(FanoutFixture.event(user, runId, 3, "agent_message_delta")
                .setMessageDelta(new MessageDelta("check. ")).build());
        events.add(FanoutFixture.event(user, runId, 4, "tool_executing").setToolCallId("c1")
                .setToolCall(new ToolCall("search", "{\"q\":\"a\"}")).build());
        events.add(FanoutFixture.event(user, runId, 5, "tool_executing").setToolCallId("c2")
                .setToolCall(new ToolCall("fetch", "{\"url\":\"b\"}")).build());
        events.add(FanoutFixture.event(user, runId, 6, "tool_completed").setToolCallId("c1")
                .setToolResult(new ToolResult("{\"hits\":3}", false, 120L)).build());
        events.add(FanoutFixture.event(user, runId, 7, "tool_completed").setToolCallId("c2")
                .setToolResult(new ToolResult("{\"error\":\"404\"}", true, 80L)).build());
        events.add(FanoutFixture.event(user, runId, 8, "agent_message_delta")
                .setMessageDelta(new MessageDelta("Found 3.")).build());
        events.add(FanoutFixture.event(user, runId, 9, "agent_completed")
                .setCompleted(new Completed("{\"answer\":3}", 50L, 7L, "stop")).build());
        return events;
    }

    @Test
    void shouldStreamARunWithReasoningToolCallsAndTextThatHttpAgentVerifies() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        fixture.writeAll(richRun("ann", "run-rich"));

        JsonArray events = agent(node, tokens.valid("ann"), "thread-ann", "run-rich").getJsonArray("seen");
        assertThat(types(events)).containsExactly("RUN_STARTED", "REASONING_START", "REASONING_MESSAGE_START",
                "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", "REASONING_END", "TEXT_MESSAGE_START",
                "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "TOOL_CALL_START",
                "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
                "TOOL_CALL_RESULT", "TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT",
                "TEXT_MESSAGE_END", "RUN_FINISHED");
        JsonObject finished = events.getJsonObject(events.size() - 1);
        assertThat(finished.getJsonObject("result").getInteger("answer")).isEqualTo(3);
        assertThat(finished.getJsonArray("usage").getJsonObject(0).getInteger("totalTokens")).isEqualTo(57);
        assertThat(events.getJsonObject(6).getString("messageId")).isEqualTo("text-run-rich-2");
        assertThat(events.getJsonObject(17).getJsonObject("metadata").getBoolean("isError")).isTrue();
        assertThat(events.getJsonObject(0).getJsonObject("metadata").getJsonObject("agentEvents").getString("chain"))
                .hasSize(64);
    }

    @Test
    void shouldEndAFailedRunAndAnAbandonedRunWithRunError() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        fixture.write(FanoutFixture.event("bea", "run-failed", 0, "agent_started").build());
        fixture.write(FanoutFixture.event("bea", "run-failed", 1, "agent_failed")
                .setFailed(new Failed("TOOL_TIMEOUT", "search timed out", true)).build());
        fixture.write(FanoutFixture.event("bea", "run-gone", 0, "agent_started").build());
        fixture.write(FanoutFixture.event("bea", "run-gone", 1, "agent_message_delta")
                .setMessageDelta(new MessageDelta("half an answer")).build());
        fixture.writeGap("bea", "run-gone", 2, 3, "TIMEOUT");
        fixture.write(FanoutFixture.event("bea", "run-gone", 4, "agent_failed")
                .setFailed(new Failed("ABANDONED", "no event for 300 s; the router closed the run", false)).build());

        JsonArray failed = agent(node, tokens.valid("bea"), "thread-bea", "run-failed").getJsonArray("seen");
        assertThat(types(failed)).containsExactly("RUN_STARTED", "RUN_ERROR");
        assertThat(failed.getJsonObject(1).getString("code")).isEqualTo("TOOL_TIMEOUT");

        JsonObject gone = run(null, "sse", node.httpUrl(), tokens.valid("bea"), "run-gone");
        List<String> goneTypes = new ArrayList<>();
        gone.getJsonArray("events").forEach(e -> goneTypes.add(((JsonObject) e).getJsonObject("event")
                .getString("type")));
        assertThat(goneTypes).containsExactly("RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "CUSTOM",
                "TEXT_MESSAGE_END", "RUN_ERROR");
        verify(gone.getJsonArray("events"));
    }

    @Test
    void shouldStreamARunAlreadyUnderWayAndContinueLiveToItsEnd() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<AgentEvent> events = richRun("cy", "run-live");
        fixture.writeAll(events.subList(0, 4));
        CompletableFuture<JsonObject> stream = CompletableFuture.supplyAsync(() -> {
            try {
                return agent(node, tokens.valid("cy"), "thread-cy", "run-live");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // once the agent's stream is open, the rest of the run arrives live
        Awaitility.await("the agent's stream open").atMost(java.time.Duration.ofSeconds(20))
                .until(() -> node.connectionCount() == 1);
        fixture.writeAll(events.subList(4, events.size()));
        JsonArray seen = stream.get(60, TimeUnit.SECONDS).getJsonArray("seen");
        assertThat(types(seen)).startsWith("RUN_STARTED").endsWith("RUN_FINISHED").hasSize(22);
    }

    @Test
    void shouldResumeADroppedStreamWithLastEventIdWithNothingRepeatedOrMissing() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        fixture.writeAll(richRun("dee", "run-resume"));
        String token = tokens.valid("dee");

        JsonArray whole = run(null, "sse", node.httpUrl(), token, "run-resume").getJsonArray("events");
        JsonArray first = run(null, "sse", node.httpUrl(), token, "run-resume", "-", "8").getJsonArray("events");
        String lastId = first.getJsonObject(first.size() - 1).getString("id");
        JsonArray rest = run(null, "sse", node.httpUrl(), token, "run-resume", lastId).getJsonArray("events");

        JsonArray joined = new JsonArray();
        first.forEach(joined::add);
        rest.forEach(joined::add);
        assertThat(joined.size()).isEqualTo(whole.size()).isEqualTo(22);
        assertThat(joined.encode()).isEqualTo(whole.encode()); // the same events, ids and message ids
        verify(joined);
        assertThat(lastId).matches("\\d+:\\d+(\\.\\d+)?");
    }

    @Test
    void shouldServeTheStreamFromANodeThatDoesNotOwnTheUsersPartition() throws Exception {
        FanoutNode a = fixture.startNode("node-a", Map.of());
        FanoutNode b = fixture.startNode("node-b", Map.of());
        FanoutFixture.awaitSplit(a, b);
        String user = "eve-0";
        for (int i = 0; a.ownedPartitions().contains(a.partitionOf(user)); i++) {
            user = "eve-" + i;
        }
        fixture.writeAll(richRun(user, "run-far"));
        JsonArray seen = agent(a, tokens.valid(user), "thread-" + user, "run-far").getJsonArray("seen");
        assertThat(types(seen)).startsWith("RUN_STARTED").endsWith("RUN_FINISHED").hasSize(22);
    }

    @Test
    void shouldNotTellARunOfAnotherUserFromARunThatDoesNotExistAndRefuseABadToken() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_AGUI_START_TIMEOUT_MS", "1500"));
        fixture.writeAll(richRun("fay", "run-private"));

        JsonArray stolen = agent(node, tokens.valid("mallory"), "thread-fay", "run-private").getJsonArray("seen");
        JsonArray missing = agent(node, tokens.valid("mallory"), "thread-fay", "run-nowhere").getJsonArray("seen");
        assertThat(types(stolen)).containsExactly("RUN_STARTED", "RUN_ERROR");
        assertThat(stolen.getJsonObject(1).getString("code")).isEqualTo("RUN_NOT_FOUND");
        assertThat(types(missing)).isEqualTo(types(stolen));

        JsonObject refused = new JsonObject(FanoutNodeTest.get(node, "/ag-ui/runs/run-private", "not-a-token")
                .body());
        assertThat(refused.getString("error")).contains("not a signed JWT");
        assertThat(FanoutNodeTest.get(node, "/ag-ui/runs/run-private", "not-a-token").statusCode()).isEqualTo(401);
    }

    private static void verify(JsonArray withIds) throws Exception {
        JsonArray events = new JsonArray();
        withIds.forEach(e -> events.add(((JsonObject) e).getJsonObject("event")));
        assertThat(run(events.encode(), "verify").getBoolean("verified")).isTrue();
    }
}
