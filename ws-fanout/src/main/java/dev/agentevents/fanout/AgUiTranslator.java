package dev.agentevents.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One run's frames of protocol v1 as AG-UI events (https://docs.ag-ui.com): {@code agent_started} → RUN_STARTED;
 * {@code agent_thinking} → a reasoning block (REASONING_START, REASONING_MESSAGE_START/CONTENT/END, REASONING_END);
 * {@code tool_executing} → TOOL_CALL_START/ARGS/END; {@code tool_completed} → TOOL_CALL_RESULT; message deltas →
 * TEXT_MESSAGE_START once, TEXT_MESSAGE_CONTENT, TEXT_MESSAGE_END (closed before a tool call, reasoning and the end);
 * {@code agent_completed} → RUN_FINISHED with the result and token usage; {@code agent_failed} (including the router's
 * ABANDONED) → RUN_ERROR; gap markers → CUSTOM {@code agent-events.gap}. Message ids derive from the run and the seq
 * that opened them, so a replayed stream carries the same ids. Every event's {@code metadata.agentEvents} holds the
 * position, seq, type and chain hash of the event it came from. Not thread-safe (one per stream).
 */
final class AgUiTranslator {

    /** An AG-UI event and its SSE id: {@code p:o} for the last event made from a frame, {@code p:o.i} before it. */
    record Output(String id, ObjectNode event) {
    }

    static final ObjectMapper JSON = new ObjectMapper();

    private final String runId;
    private final String threadId;
    private boolean started;
    private boolean ended;
    private String openText;

    AgUiTranslator(String runId, String threadId) {
        this.runId = runId;
        this.threadId = threadId;
    }

    boolean started() {
        return started;
    }

    boolean ended() {
        return ended;
    }

    /** The AG-UI events for one frame (event or gap) of this run; none once the run has ended. */
    List<Output> accept(JsonNode frame) {
        List<ObjectNode> out = new ArrayList<>();
        if (ended) {
            return List.of();
        }
        String type = frame.path("type").asText();
        String pos = frame.path("pos").asText();
        if (type.equals("gap")) {
            startIfNeeded(out, frame.path("threadId").asText(threadId), null);
            out.add(custom("agent-events.gap", JSON.createObjectNode().put("fromSeq", frame.path("fromSeq").asLong())
                    .put("toSeq", frame.path("toSeq").asLong()).put("reason", frame.path("reason").asText())));
            return outputs(out, frame, pos, null);
        }
        JsonNode event = frame.path("event");
        long seq = event.path("seq").asLong();
        String eventType = event.path("type").asText();
        if (!eventType.equals("agent_started")) {
            startIfNeeded(out, event.path("threadId").asText(threadId), null);
        }
        switch (eventType) {
            case "agent_started" -> {
                if (!started) {
                    ObjectNode runStarted = base("RUN_STARTED").put("threadId", event.path("threadId").asText())
                            .put("runId", runId);
                    if (event.hasNonNull("parentRunId")) {
                        runStarted.put("parentRunId", event.path("parentRunId").asText());
                    }
                    runStarted.putObject("metadata").set("agent", event.path("agent"));
                    out.add(runStarted);
                    started = true;
                }
            }
            case "agent_thinking" -> {
                closeText(out);
                String id = "reasoning-" + runId + "-" + seq;
                out.add(base("REASONING_START").put("messageId", id));
                out.add(base("REASONING_MESSAGE_START").put("messageId", id).put("role", "reasoning"));
                out.add(base("REASONING_MESSAGE_CONTENT").put("messageId", id)
                        .put("delta", event.path("thinking").path("text").asText()));
                out.add(base("REASONING_MESSAGE_END").put("messageId", id));
                out.add(base("REASONING_END").put("messageId", id));
            }
            case "agent_message_delta" -> {
                if (openText == null) {
                    openText = "text-" + runId + "-" + seq;
                    out.add(base("TEXT_MESSAGE_START").put("messageId", openText).put("role", "assistant"));
                }
                String delta = event.path("messageDelta").path("text").asText();
                if (!delta.isEmpty()) { // AG-UI wants a non-empty delta
                    out.add(base("TEXT_MESSAGE_CONTENT").put("messageId", openText).put("delta", delta));
                }
            }
            case "tool_executing" -> {
                closeText(out);
                String call = event.path("toolCallId").asText();
                out.add(base("TOOL_CALL_START").put("toolCallId", call)
                        .put("toolCallName", event.path("toolCall").path("toolName").asText()));
                String args = event.path("toolCall").path("argumentsJson").asText();
                if (!args.isEmpty()) {
                    out.add(base("TOOL_CALL_ARGS").put("toolCallId", call).put("delta", args));
                }
                out.add(base("TOOL_CALL_END").put("toolCallId", call));
            }
            case "tool_completed" -> {
                closeText(out);
                String call = event.path("toolCallId").asText();
                JsonNode result = event.path("toolResult");
                ObjectNode toolResult = base("TOOL_CALL_RESULT").put("messageId", "result-" + runId + "-" + call)
                        .put("toolCallId", call).put("content", result.path("contentJson").asText()).put("role", "tool");
                toolResult.putObject("metadata").put("isError", result.path("isError").asBoolean())
                        .put("durationMs", result.path("durationMs").asLong());
                out.add(toolResult);
            }
            case "agent_completed" -> {
                closeText(out);
                JsonNode completed = event.path("completed");
                ObjectNode finished = base("RUN_FINISHED").put("threadId", event.path("threadId").asText())
                        .put("runId", runId);
                JsonNode result = parse(completed.path("resultJson").asText());
                if (result != null && !result.isNull()) {
                    finished.set("result", result);
                }
                ObjectNode usage = JSON.createObjectNode();
                if (event.path("agent").hasNonNull("model")) {
                    usage.put("model", event.path("agent").path("model").asText());
                }
                long total = 0;
                boolean counted = false;
                for (String field : List.of("inputTokens", "outputTokens")) {
                    if (completed.hasNonNull(field)) {
                        usage.put(field, completed.path(field).asLong());
                        total += completed.path(field).asLong();
                        counted = true;
                    }
                }
                if (counted) {
                    usage.put("totalTokens", total);
                }
                ArrayNode usages = finished.putArray("usage");
                usages.add(usage);
                finished.putObject("metadata").put("finishReason", completed.path("finishReason").asText());
                out.add(finished);
                ended = true;
            }
            case "agent_failed" -> {
                closeText(out);
                JsonNode failed = event.path("failed");
                ObjectNode error = base("RUN_ERROR").put("message", failed.path("message").asText())
                        .put("code", failed.path("code").asText());
                error.putObject("metadata").put("retryable", failed.path("retryable").asBoolean());
                out.add(error);
                ended = true;
            }
            default -> out.add(custom("agent-events.event", event)); // a newer type: passed on as it is
        }
        return outputs(out, frame, pos, event);
    }

    /** RUN_STARTED (when nothing of the run was seen) and RUN_ERROR with {@code code}: the stream ends. */
    List<Output> end(String code, String message, String pos) {
        List<ObjectNode> out = new ArrayList<>();
        startIfNeeded(out, threadId, null);
        closeText(out);
        out.add(base("RUN_ERROR").put("message", message).put("code", code));
        ended = true;
        List<Output> outputs = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            outputs.add(new Output(pos + "." + i, out.get(i)));
        }
        return outputs;
    }

    private void startIfNeeded(List<ObjectNode> out, String thread, String parent) {
        if (!started) {
            // the run began before the stream could see it (before the look-back window, or in a gap)
            ObjectNode runStarted = base("RUN_STARTED").put("threadId", thread == null || thread.isEmpty()
                    ? "unknown" : thread).put("runId", runId);
            if (parent != null) {
                runStarted.put("parentRunId", parent);
            }
            out.add(runStarted);
            started = true;
        }
    }

    private void closeText(List<ObjectNode> out) {
        if (openText != null) {
            out.add(base("TEXT_MESSAGE_END").put("messageId", openText));
            openText = null;
        }
    }

    private static ObjectNode base(String type) {
        return JSON.createObjectNode().put("type", type);
    }

    private static ObjectNode custom(String name, JsonNode value) {
        ObjectNode custom = base("CUSTOM").put("name", name);
        custom.set("value", value);
        return custom;
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            return JSON.getNodeFactory().textNode(json);
        }
    }

    /** Ids, timestamps and provenance for the events made from one frame. */
    private static List<Output> outputs(List<ObjectNode> events, JsonNode frame, String pos, JsonNode event) {
        List<Output> outputs = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            ObjectNode out = events.get(i);
            if (event != null) {
                out.put("timestamp", event.path("occurredAt").asLong());
            }
            ObjectNode metadata = out.has("metadata") ? (ObjectNode) out.get("metadata") : out.putObject("metadata");
            ObjectNode provenance = metadata.putObject("agentEvents").put("pos", pos);
            if (event != null) {
                provenance.put("seq", event.path("seq").asLong()).put("type", event.path("type").asText())
                        .put("chain", frame.path("chain").asText());
            }
            outputs.add(new Output(i == events.size() - 1 ? pos : pos + "." + i, out));
        }
        return outputs;
    }

    /**
     * Whether an SSE id comes after {@code lastEventId} ({@code p:o} or {@code p:o.i}, null: everything does): the
     * ids a stream sends grow with the position and, within one frame, with the index.
     */
    static boolean after(String id, String lastEventId) {
        if (lastEventId == null) {
            return true;
        }
        long[] a = parseId(id);
        long[] b = parseId(lastEventId);
        if (a == null || b == null || a[0] != b[0]) {
            return true;
        }
        if (a[1] != b[1]) {
            return a[1] > b[1];
        }
        return a[2] > b[2];
    }

    /** {partition, offset, index}; index {@link Long#MAX_VALUE} for a frame's last event; null if unreadable. */
    static long[] parseId(String id) {
        try {
            int colon = id.indexOf(':');
            int dot = id.indexOf('.', colon);
            long partition = Long.parseLong(id.substring(0, colon));
            long offset = Long.parseLong(dot < 0 ? id.substring(colon + 1) : id.substring(colon + 1, dot));
            long index = dot < 0 ? Long.MAX_VALUE : Long.parseLong(id.substring(dot + 1));
            return new long[] {partition, offset, index};
        } catch (RuntimeException e) {
            return null;
        }
    }
}
