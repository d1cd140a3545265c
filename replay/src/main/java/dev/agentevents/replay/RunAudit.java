package dev.agentevents.replay;

import dev.agentevents.schemas.HashChain;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/**
 * Verifies each run found in {@code agent-events-ordered}, record by record as they stream past: the hash chain
 * (every record's hash recomputed from its content and its predecessor's hash) and seq completeness (0 to the
 * terminal event, no gap markers, no repeats, nothing after the end). Keeps a few numbers per run, and, for the
 * HTML report, a bounded timeline of each run's first events.
 */
final class RunAudit {

    static final int TIMELINE_LIMIT = 300;

    enum Status { COMPLETED, FAILED, OPEN, BEGAN_BEFORE_RANGE }

    /** One step of a run's timeline, for the report. */
    record Step(long seq, String type, long atMs, String label, String toolCallId, Long durationMs, boolean error) {
    }

    static final class Run {
        final String userId;
        final String runId;
        long events;
        Long firstMs;
        Long lastMs;
        long expectedSeq = -1;
        String lastHash;
        boolean beganBefore;
        boolean ended;
        String terminalType;
        String problem;
        final List<Step> timeline = new ArrayList<>();
        boolean timelineTruncated;

        Run(String userId, String runId) {
            this.userId = userId;
            this.runId = runId;
        }

        Status status() {
            if (beganBefore && !ended) {
                return Status.BEGAN_BEFORE_RANGE;
            }
            if (!ended) {
                return Status.OPEN;
            }
            return "agent_completed".equals(terminalType) ? Status.COMPLETED : Status.FAILED;
        }

        boolean passed() {
            return problem == null;
        }

        String verdict() {
            return problem == null ? (beganBefore ? "ok (chain verified from the first record in range)" : "ok")
                    : "FAIL: " + problem;
        }

        private void fail(String why) {
            if (problem == null) {
                problem = why;
            }
        }
    }

    private final Map<String, Run> runs = new LinkedHashMap<>();

    void accept(Decoded record) {
        if (record.ordered() == null) {
            return;
        }
        GenericRecord ordered = record.ordered();
        Run run = runs.computeIfAbsent(record.userId() + "\u0000" + record.runId(),
                k -> new Run(record.userId(), record.runId()));
        String where = "offset " + record.partition() + ":" + record.offset();
        String prevHash = String.valueOf(ordered.get("prevHash"));
        String hash = String.valueOf(ordered.get("hash"));
        boolean isGap = record.gap() != null;
        GenericRecord payload = isGap ? record.gap() : record.event();
        String kind = String.valueOf(ordered.get("kind"));
        if (payload == null) {
            run.fail(where + ": a " + kind + " record without its payload");
            return;
        }
        if (run.lastHash == null) {
            run.beganBefore = !HashChain.GENESIS.equals(prevHash);
        } else if (!run.lastHash.equals(prevHash)) {
            run.fail("a record is missing or out of place before " + describe(record) + " (" + where
                    + "): its prevHash does not link to the previous record's hash");
        }
        String recomputed = HashChain.next(prevHash, kind, payload);
        if (!recomputed.equals(hash)) {
            run.fail(describe(record) + " (" + where + ") was altered: its hash does not match its content");
        }
        run.lastHash = hash;
        if (run.ended) {
            run.fail(describe(record) + " (" + where + ") comes after the run's terminal event");
        }
        if (isGap) {
            long from = (Long) record.gap().get("fromSeq");
            long to = (Long) record.gap().get("toSeq");
            checkSeq(run, from, record, where);
            run.fail("seqs " + from + ".." + to + " are missing (gap marker, " + record.gap().get("reason") + ", "
                    + where + ")");
            run.expectedSeq = to + 1;
            addStep(run, new Step(from, "gap", record.timestamp().toEpochMilli(), "missing " + from + ".." + to,
                    null, null, true));
            return;
        }
        long seq = record.seq();
        checkSeq(run, seq, record, where);
        run.expectedSeq = seq + 1;
        run.events++;
        long at = record.occurredAtMs();
        run.firstMs = run.firstMs == null ? at : Math.min(run.firstMs, at);
        run.lastMs = run.lastMs == null ? at : Math.max(run.lastMs, at);
        String type = record.type();
        if ("agent_completed".equals(type) || "agent_failed".equals(type)) {
            run.ended = true;
            run.terminalType = type;
        }
        addStep(run, step(record, seq, type, at));
    }

    private static void checkSeq(Run run, long seq, Decoded record, String where) {
        if (run.expectedSeq < 0) {
            if (seq != 0 && !run.beganBefore) {
                run.fail("the run starts at seq " + seq + " (" + where + "), not 0, though its chain starts there");
            }
            return;
        }
        if (seq < run.expectedSeq) {
            run.fail(describe(record) + " (" + where + ") repeats seq " + seq);
        } else if (seq > run.expectedSeq) {
            run.fail("seqs " + run.expectedSeq + ".." + (seq - 1) + " are missing before " + describe(record) + " ("
                    + where + ")");
        }
    }

    private static String describe(Decoded record) {
        return record.gap() != null ? "the gap marker" : record.type() + " seq " + record.seq();
    }

    private static Step step(Decoded record, long seq, String type, long at) {
        GenericRecord event = record.event();
        return switch (type) {
            case "tool_executing" -> new Step(seq, type, at, text(event, "toolCall", "toolName"),
                    String.valueOf(event.get("toolCallId")), null, false);
            case "tool_completed" -> {
                GenericRecord result = (GenericRecord) event.get("toolResult");
                yield new Step(seq, type, at, "result", String.valueOf(event.get("toolCallId")),
                        result == null ? null : (Long) result.get("durationMs"),
                        result != null && Boolean.TRUE.equals(result.get("isError")));
            }
            case "agent_failed" -> new Step(seq, type, at, text(event, "failed", "code"), null, null, true);
            case "agent_thinking" -> new Step(seq, type, at, abbreviate(text(event, "thinking", "text")), null, null,
                    false);
            default -> new Step(seq, type, at, type, null, null, false);
        };
    }

    private static String text(GenericRecord event, String payload, String field) {
        Object record = event.get(payload);
        return record instanceof GenericRecord r ? String.valueOf(r.get(field)) : "";
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "…" : text;
    }

    private static void addStep(Run run, Step step) {
        if (run.timeline.size() < TIMELINE_LIMIT) {
            run.timeline.add(step);
        } else {
            run.timelineTruncated = true;
        }
    }

    List<Run> runs() {
        return new ArrayList<>(runs.values());
    }

    boolean allPassed() {
        return runs.values().stream().allMatch(Run::passed);
    }
}
