package dev.agentevents.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The client protocol's rules for one user's stream, in Java, for the clients the tests and the fault audit run: a
 * frame at or before the position is a repeat; an event at or before its run's last seq is a repeat; an event after
 * its run's end is dropped; an event past the next seq reveals a gap first; a client without a position takes the
 * one its {@code welcome} names (where that connection's stream starts), so a reconnect before its first event
 * resumes there. The browser client has the same rules in
 * JavaScript; both are held to {@code protocol/stream-rules.json}. Not thread-safe (one per client).
 */
public final class StreamRules {

    /** What to do with a frame. */
    public enum Action { DELIVER, GAP, DROP, CONTROL }

    /** The verdict on one frame: its action, why it is dropped, and the gap a delivered event reveals (else -1). */
    public record Verdict(Action action, String reason, long gapFrom, long gapTo) {

        public boolean revealsGap() {
            return gapFrom >= 0;
        }
    }

    private static final Set<String> TERMINAL = Set.of("agent_completed", "agent_failed");
    private static final int REMEMBERED_FINISHED_RUNS = 1000;

    private record Run(long lastSeq, boolean terminal) {
    }

    private int partition = -1;
    private long offset = -1;
    private final Map<String, Run> runs = new HashMap<>();
    private final Deque<String> finished = new ArrayDeque<>();

    /** Starts after {@code position} ({@code "<partition>:<offset>"}), as a resumed client does. */
    public void startAfter(String position) {
        String[] parts = position.split(":");
        partition = Integer.parseInt(parts[0]);
        offset = Long.parseLong(parts[1]);
    }

    /** The last position processed, or null. */
    public String position() {
        return partition < 0 ? null : partition + ":" + offset;
    }

    public Verdict check(JsonNode frame) {
        String type = frame.path("type").asText();
        if (!type.equals("event") && !type.equals("gap")) {
            if (type.equals("welcome") && partition < 0 && frame.path("pos").isTextual()) {
                startAfter(frame.path("pos").asText());
            }
            return new Verdict(Action.CONTROL, type, -1, -1);
        }
        String[] pos = frame.path("pos").asText().split(":");
        if (partition == Integer.parseInt(pos[0]) && Long.parseLong(pos[1]) <= offset) {
            return new Verdict(Action.DROP, "position", -1, -1);
        }
        if (type.equals("gap")) {
            return new Verdict(Action.GAP, null, -1, -1);
        }
        JsonNode event = frame.path("event");
        Run run = runs.get(event.path("runId").asText());
        long seq = event.path("seq").asLong();
        if (run != null && seq <= run.lastSeq()) {
            return new Verdict(Action.DROP, "seq", -1, -1);
        }
        if (run != null && run.terminal()) {
            return new Verdict(Action.DROP, "after-end", -1, -1);
        }
        if (run != null && seq > run.lastSeq() + 1) {
            return new Verdict(Action.DELIVER, null, run.lastSeq() + 1, seq - 1);
        }
        return new Verdict(Action.DELIVER, null, -1, -1);
    }

    /** Moves the position past a frame {@link #check} dropped by seq or after its run's end. */
    public void skip(JsonNode frame) {
        String[] pos = frame.path("pos").asText().split(":");
        partition = Integer.parseInt(pos[0]);
        offset = Long.parseLong(pos[1]);
    }

    /** Records a frame {@link #check} said to deliver or report. */
    public void commit(JsonNode frame) {
        String[] pos = frame.path("pos").asText().split(":");
        partition = Integer.parseInt(pos[0]);
        offset = Long.parseLong(pos[1]);
        if (frame.path("type").asText().equals("gap")) {
            if (frame.path("runId").isTextual()) {
                String runId = frame.path("runId").asText();
                Run run = runs.get(runId);
                long toSeq = frame.path("toSeq").asLong();
                runs.put(runId, new Run(run == null ? toSeq : Math.max(run.lastSeq(), toSeq),
                        run != null && run.terminal()));
            }
            return;
        }
        JsonNode event = frame.path("event");
        String runId = event.path("runId").asText();
        boolean terminal = TERMINAL.contains(event.path("type").asText());
        runs.put(runId, new Run(event.path("seq").asLong(), terminal));
        if (terminal) {
            finished.addLast(runId);
            while (finished.size() > REMEMBERED_FINISHED_RUNS) {
                runs.remove(finished.removeFirst());
            }
        }
    }

    /** The outcome strings of {@code protocol/stream-rules.json} for a frame: checks and, when due, commits it. */
    public String apply(JsonNode frame) {
        Verdict verdict = check(frame);
        return switch (verdict.action()) {
            case CONTROL -> "control " + verdict.reason();
            case DROP -> {
                if (!verdict.reason().equals("position")) {
                    skip(frame);
                }
                yield "drop " + verdict.reason();
            }
            case GAP -> {
                commit(frame);
                yield "gap " + text(frame.path("runId")) + " " + text(frame.path("fromSeq")) + ".."
                        + text(frame.path("toSeq"));
            }
            case DELIVER -> {
                commit(frame);
                JsonNode event = frame.path("event");
                yield "deliver " + event.path("runId").asText() + "#" + event.path("seq").asLong()
                        + (verdict.revealsGap() ? " after-gap " + verdict.gapFrom() + ".." + verdict.gapTo() : "");
            }
        };
    }

    private static String text(JsonNode value) {
        return value.isNull() || value.isMissingNode() ? "null" : value.asText();
    }
}
