package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Failed;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.SourcePosition;
import dev.agentevents.schemas.EventType;
import dev.agentevents.schemas.OrderedRecords;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The router's one processor: validates each event, drops duplicates, and emits each run's events in seq order
 * with the run's hash chain, holding early arrivals in the {@code pending} store. A wall-clock sweep gives up on
 * missing seqs after the gap timeout (gap marker), closes idle runs with {@code agent_failed{code=ABANDONED}},
 * and forgets finished runs after the grace period. Rejected input goes to the dead-letter sink, original bytes
 * and all; nothing is only logged.
 *
 * <p>The sweep does not scan the store: an in-memory index holds each run's next deadline (the earliest of gap
 * timeout, abandonment and end of grace), updated whenever the run's state is written and rebuilt from the store
 * when the task is initialized (after a restart, a migration or an aborted transaction). The store stays the
 * truth: a due run is read back and re-checked before anything happens to it.
 */
final class RunSequencer implements Processor<byte[], IncomingEvent, Object, Object> {

    static final String RUNS_STORE = "runs";
    static final String PENDING_STORE = "pending";
    static final String ORDERED_SINK = "ordered-sink";
    static final String DLQ_SINK = "dead-letter-sink";
    private static final int MAX_ID_LENGTH = 512;
    private static final int RECENT_STATES = 4096;

    private final RouterConfig config;
    private final RouterMetrics metrics;
    private final InputProgress progress;
    private int partition;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Bytes, byte[]> runs;
    private KeyValueStore<Bytes, byte[]> pending;
    private final Deadlines deadlines = new Deadlines();
    /**
     * The decoded states of the runs touched most recently, exactly as last written to the store (this processor is
     * the store's only writer), so a busy run is not decoded again for each of its events. Cleared when the task is
     * initialized and whenever processing fails part-way, so it never holds a state the store does not.
     */
    private final Map<Bytes, RunState> recentStates = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Bytes, RunState> eldest) {
            return size() > RECENT_STATES;
        }
    };

    RunSequencer(RouterConfig config, RouterMetrics metrics, InputProgress progress) {
        this.config = config;
        this.metrics = metrics;
        this.progress = progress;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.partition = context.taskId().partition();
        this.runs = context.getStateStore(RUNS_STORE);
        this.pending = context.getStateStore(PENDING_STORE);
        deadlines.clear();
        recentStates.clear();
        try (KeyValueIterator<Bytes, byte[]> it = runs.all()) {
            it.forEachRemaining(entry -> deadlines.set(entry.key, nextDeadline(RunState.decode(entry.value))));
        }
        context.schedule(config.sweepInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    /** Where the record being processed was read. */
    private record Source(String topic, int partition, long offset, byte[] rawKey, byte[] rawValue) {
    }

    private static final class Rejection extends Exception {
        final RejectReason reason;

        Rejection(RejectReason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    // ---------------------------------------------------------------- input

    @Override
    public void process(Record<byte[], IncomingEvent> record) {
        long now = context.currentSystemTimeMs();
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        Source source = new Source(meta.topic(), meta.partition(), meta.offset(), record.key(),
                record.value().rawValue());
        AgentEvent event = record.value().event();
        try {
            validate(record.key(), record.value(), event);
            accept(event, source, now);
        } catch (Rejection rejection) {
            reject(source, rejection, now);
        } catch (RuntimeException e) {
            recentStates.clear();
            throw e;
        }
    }

    private void validate(byte[] rawKey, IncomingEvent incoming, AgentEvent event) throws Rejection {
        if (incoming.rawValue().length > config.maxEventBytes()) {
            throw new Rejection(RejectReason.OVERSIZED, "record of " + incoming.rawValue().length
                    + " bytes exceeds ROUTER_MAX_EVENT_BYTES " + config.maxEventBytes());
        }
        requireId("eventId", event.getEventId());
        requireId("userId", event.getUserId());
        requireId("threadId", event.getThreadId());
        requireId("runId", event.getRunId());
        String key = utf8(rawKey);
        if (!event.getUserId().equals(key)) {
            throw new Rejection(RejectReason.KEY_USER_MISMATCH, key == null
                    ? "record key is missing or not UTF-8 but the event's userId is '" + event.getUserId() + "'"
                    : "record key '" + key + "' is not the event's userId '" + event.getUserId() + "'");
        }
        EventType type = EventType.fromWireName(event.getType()).orElseThrow(() -> new Rejection(
                RejectReason.UNKNOWN_TYPE, "unknown event type '" + event.getType() + "' (known: "
                        + List.of(EventType.values()) + ")"));
        if (event.getSeq() < 0) {
            throw new Rejection(RejectReason.INVALID_SEQ, "seq " + event.getSeq() + " is negative");
        }
        if ((type == EventType.AGENT_STARTED) != (event.getSeq() == 0)) {
            throw new Rejection(RejectReason.INVALID_SEQ, type == EventType.AGENT_STARTED
                    ? "agent_started has seq " + event.getSeq() + "; it must be 0"
                    : event.getType() + " has seq 0, which belongs to agent_started");
        }
        String missing = switch (type) {
            case AGENT_STARTED -> null;
            case AGENT_THINKING -> event.getThinking() == null ? "thinking" : null;
            case AGENT_MESSAGE_DELTA -> event.getMessageDelta() == null ? "messageDelta" : null;
            case TOOL_EXECUTING -> event.getToolCall() == null ? "toolCall" : blank(event.getToolCallId());
            case TOOL_COMPLETED -> event.getToolResult() == null ? "toolResult" : blank(event.getToolCallId());
            case AGENT_COMPLETED -> event.getCompleted() == null ? "completed" : null;
            case AGENT_FAILED -> event.getFailed() == null ? "failed" : null;
        };
        if (missing != null) {
            throw new Rejection(RejectReason.MISSING_PAYLOAD, event.getType() + " needs " + missing);
        }
    }

    private static String blank(String toolCallId) {
        return toolCallId == null || toolCallId.isBlank() ? "toolCallId" : null;
    }

    private static void requireId(String name, String value) throws Rejection {
        if (value == null || value.isBlank()) {
            throw new Rejection(RejectReason.MISSING_FIELD, name + " is blank");
        }
        if (value.length() > MAX_ID_LENGTH) {
            throw new Rejection(RejectReason.INVALID_FIELD, name + " has " + value.length()
                    + " characters; at most " + MAX_ID_LENGTH + " are allowed");
        }
    }

    private static String utf8(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private void accept(AgentEvent event, Source source, long now) throws Rejection {
        Bytes runKey = RunState.runKey(event.getUserId(), event.getRunId());
        RunState stored = load(runKey);
        RunState state = stored == null ? RunState.startedBy(event) : stored;
        if (!state.threadId.equals(event.getThreadId())) {
            throw new Rejection(RejectReason.THREAD_MISMATCH, "event of run '" + event.getRunId() + "' names thread '"
                    + event.getThreadId() + "' but the run belongs to thread '" + state.threadId + "'");
        }
        long seq = event.getSeq();
        if (state.recentlySaw(event.getEventId())) {
            metrics.dropped("duplicate_event_id");
            return;
        }
        if (state.terminal && seq >= state.terminalSeq) {
            throw new Rejection(RejectReason.AFTER_TERMINAL, event.getType() + " (seq " + seq + ") of run '"
                    + event.getRunId() + "' comes after its terminal event (seq " + state.terminalSeq + ")");
        }
        if (seq < state.nextSeq) {
            if (state.inGap(seq)) {
                throw new Rejection(RejectReason.LATE, "seq " + seq + " of run '" + event.getRunId()
                        + "' arrived after the router gave up waiting for it and emitted a gap marker");
            }
            if (seq == 0) {
                throw new Rejection(RejectReason.DUPLICATE_START, "run '" + event.getRunId()
                        + "' already started with another agent_started (event " + event.getEventId() + ")");
            }
            metrics.dropped("duplicate_seq");
            return;
        }
        state.lastEventAtMs = now;
        if (seq == state.nextSeq) {
            emit(state, runKey, event, source, now);
            drain(state, runKey, now);
        } else {
            Bytes pendingKey = RunState.pendingKey(runKey, seq);
            if (pending.get(pendingKey) != null) {
                metrics.dropped("duplicate_seq");
                return;
            }
            pending.put(pendingKey, new PendingEvent(source.partition(), source.offset(), now, source.rawKey(),
                    source.rawValue(), event).encode());
            state.pendingCount++;
            if (state.waitingSinceMs == 0) {
                state.waitingSinceMs = now;
            }
            if (state.pendingCount > config.maxPendingPerRun()) {
                giveUpWaiting(state, runKey, "BUFFER_FULL", now);
            }
        }
        save(runKey, state);
    }

    private RunState load(Bytes runKey) {
        RunState state = recentStates.get(runKey);
        if (state == null) {
            byte[] stored = runs.get(runKey);
            if (stored == null) {
                return null;
            }
            state = RunState.decode(stored);
            recentStates.put(runKey, state);
        }
        return state;
    }

    private void save(Bytes runKey, RunState state) {
        runs.put(runKey, state.encode());
        recentStates.put(runKey, state);
        deadlines.set(runKey, nextDeadline(state));
    }

    /** When the sweep must next look at this run. */
    private long nextDeadline(RunState state) {
        if (state.terminal) {
            return state.endedAtMs + config.runGrace().toMillis();
        }
        long abandon = state.lastEventAtMs + config.abandonAfter().toMillis();
        return state.pendingCount > 0 ? Math.min(abandon, state.waitingSinceMs + config.gapTimeout().toMillis())
                : abandon;
    }

    // ---------------------------------------------------------------- output

    /** Emits {@code event}, the run's next seq, or rejects it for breaking a rule of the run's lifecycle. */
    private void emit(RunState state, Bytes runKey, AgentEvent event, Source source, long now) {
        String problem = transitionProblem(state, event);
        if (problem != null) {
            reject(source, new Rejection(RejectReason.INVALID_TRANSITION, problem), now);
            emitGap(state, event.getSeq(), event.getSeq(), "REJECTED", 0, now);
            return;
        }
        if (EventType.TOOL_EXECUTING.wireName().equals(event.getType())) {
            state.openToolCalls.add(event.getToolCallId());
        } else if (EventType.TOOL_COMPLETED.wireName().equals(event.getType())) {
            state.openToolCalls.remove(event.getToolCallId());
        }
        OrderedEvent ordered = OrderedRecords.event(state.lastHash, event, Instant.ofEpochMilli(now),
                source == null ? null : new SourcePosition(source.topic(), source.partition(), source.offset()));
        forwardOrdered(ordered, event, now);
        state.lastHash = ordered.getHash();
        state.nextSeq = event.getSeq() + 1;
        state.remember(event);
        metrics.accepted();
        if (EventType.fromWireName(event.getType()).map(EventType::isTerminal).orElse(false)) {
            state.terminal = true;
            state.terminalSeq = event.getSeq();
            state.endedAtMs = now;
            rejectAllPending(state, runKey, now);
        }
    }

    private static String transitionProblem(RunState state, AgentEvent event) {
        // after a gap the tool_executing may have been among the missing events: the result is still the user's,
        // so it is delivered rather than thrown away with the gap
        if (EventType.TOOL_COMPLETED.wireName().equals(event.getType())
                && !state.openToolCalls.contains(event.getToolCallId()) && state.gaps.isEmpty()) {
            return "tool_completed (seq " + event.getSeq() + ") for tool call '" + event.getToolCallId()
                    + "', which is not executing in run '" + event.getRunId() + "' (executing: "
                    + state.openToolCalls + ")";
        }
        if (EventType.TOOL_EXECUTING.wireName().equals(event.getType())
                && state.openToolCalls.contains(event.getToolCallId())) {
            return "tool_executing (seq " + event.getSeq() + ") for tool call '" + event.getToolCallId()
                    + "', which is already executing in run '" + event.getRunId() + "'";
        }
        return null;
    }

    private void forwardOrdered(OrderedEvent ordered, AgentEvent event, long now) {
        RecordHeaders headers = new RecordHeaders();
        if (event != null && event.getTraceId() != null && event.getSpanId() != null) {
            headers.add("traceparent", ("00-" + event.getTraceId() + "-" + event.getSpanId() + "-01")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        context.forward(new Record<>(ordered.getUserId(), ordered, now, headers), ORDERED_SINK);
    }

    private void emitGap(RunState state, long fromSeq, long toSeq, String reason, long waitedMs, long now) {
        OrderedEvent ordered = OrderedRecords.gap(state.lastHash, state.userId, state.threadId, state.runId,
                new Gap(fromSeq, toSeq, waitedMs, reason), Instant.ofEpochMilli(now));
        forwardOrdered(ordered, null, now);
        state.lastHash = ordered.getHash();
        state.nextSeq = toSeq + 1;
        state.rememberGap(fromSeq, toSeq);
        metrics.gap(reason);
    }

    /** Emits held events for as long as the next seq is among them. */
    private void drain(RunState state, Bytes runKey, long now) {
        while (state.pendingCount > 0 && !state.terminal) {
            Bytes key = RunState.pendingKey(runKey, state.nextSeq);
            byte[] bytes = pending.get(key);
            if (bytes == null) {
                break;
            }
            pending.delete(key);
            state.pendingCount--;
            PendingEvent held = PendingEvent.decode(bytes);
            emit(state, runKey, held.event(), new Source(config.topics().events(), held.partition(), held.offset(),
                    held.rawKey(), held.rawValue()), now);
        }
        state.waitingSinceMs = state.pendingCount > 0 ? now : 0;
    }

    /** Stops waiting for the missing seqs before the first held event: a gap marker, then what can follow. */
    private void giveUpWaiting(RunState state, Bytes runKey, String reason, long now) {
        Long first = firstPendingSeq(runKey);
        if (first == null) {
            state.pendingCount = 0;
            state.waitingSinceMs = 0;
            return;
        }
        emitGap(state, state.nextSeq, first - 1, reason, state.waitingSinceMs == 0 ? 0 : now - state.waitingSinceMs,
                now);
        drain(state, runKey, now);
    }

    private Long firstPendingSeq(Bytes runKey) {
        try (KeyValueIterator<Bytes, byte[]> it = pending.range(RunState.pendingKey(runKey, 0),
                RunState.pendingKey(runKey, Long.MAX_VALUE))) {
            return it.hasNext() ? RunState.seqOfPendingKey(it.next().key) : null;
        }
    }

    private void rejectAllPending(RunState state, Bytes runKey, long now) {
        if (state.pendingCount == 0) {
            return;
        }
        List<KeyValue<Bytes, byte[]>> held = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = pending.range(RunState.pendingKey(runKey, 0),
                RunState.pendingKey(runKey, Long.MAX_VALUE))) {
            it.forEachRemaining(held::add);
        }
        for (KeyValue<Bytes, byte[]> entry : held) {
            pending.delete(entry.key);
            PendingEvent event = PendingEvent.decode(entry.value);
            reject(new Source(config.topics().events(), event.partition(), event.offset(), event.rawKey(),
                    event.rawValue()), new Rejection(RejectReason.AFTER_TERMINAL, event.event().getType() + " (seq "
                    + event.event().getSeq() + ") of run '" + state.runId + "' comes after its terminal event (seq "
                    + state.terminalSeq + ")"), now);
        }
        state.pendingCount = 0;
        state.waitingSinceMs = 0;
    }

    private void reject(Source source, Rejection rejection, long now) {
        context.forward(new Record<>(source.rawKey(), source.rawValue(), now, DeadLetters.headers(rejection.reason,
                rejection.getMessage(), source.topic(), source.partition(), source.offset(), now)), DLQ_SINK);
        metrics.rejected(rejection.reason);
    }

    // ---------------------------------------------------------------- time

    private void sweep(long now) {
        try {
            sweepDue(now);
        } catch (RuntimeException e) {
            recentStates.clear();
            throw e;
        }
    }

    /**
     * Acts on the runs whose deadline has come, but only on silence the router can vouch for: each timeout counts
     * up to the time everything published to this partition has been read ({@link InputProgress}), not up to the
     * wall clock. A run whose timeout would need a later caught-up time is looked at again at the next sweep.
     */
    private void sweepDue(long now) {
        long readUpTo = Math.min(now, progress.caughtUpAt(partition));
        for (Bytes runKey : deadlines.due(now)) {
            RunState state = load(runKey);
            if (state == null) {
                continue;
            }
            if (state.terminal) {
                if (readUpTo - state.endedAtMs >= config.runGrace().toMillis()) {
                    runs.delete(runKey);
                    recentStates.remove(runKey);
                } else {
                    later(runKey, state, now);
                }
                continue;
            }
            boolean changed = false;
            if (state.pendingCount > 0 && readUpTo - state.waitingSinceMs >= config.gapTimeout().toMillis()) {
                giveUpWaiting(state, runKey, "TIMEOUT", now);
                changed = true;
            }
            if (!state.terminal && readUpTo - state.lastEventAtMs >= config.abandonAfter().toMillis()) {
                while (state.pendingCount > 0 && !state.terminal) {
                    giveUpWaiting(state, runKey, "TIMEOUT", now);
                }
                if (!state.terminal) {
                    abandon(state, runKey, now);
                }
                changed = true;
            }
            if (changed) {
                save(runKey, state);
            } else {
                later(runKey, state, now);
            }
        }
    }

    /** Looks at the run again at its deadline, or at the next sweep if the deadline passed before the input was read. */
    private void later(Bytes runKey, RunState state, long now) {
        deadlines.set(runKey, Math.max(nextDeadline(state), now + config.sweepInterval().toMillis()));
    }

    private void abandon(RunState state, Bytes runKey, long now) {
        long idleSeconds = (now - state.lastEventAtMs) / 1000;
        AgentEvent failed = AgentEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes(runKey.get()).toString())
                .setType(EventType.AGENT_FAILED.wireName())
                .setUserId(state.userId)
                .setThreadId(state.threadId)
                .setRunId(state.runId)
                .setParentRunId(state.parentRunId)
                .setSeq(state.nextSeq)
                .setOccurredAt(Instant.ofEpochMilli(now))
                .setAgent(state.agent)
                .setTraceId(state.traceId)
                .setFailed(Failed.newBuilder().setCode("ABANDONED")
                        .setMessage("no event for " + idleSeconds + " s; the router closed the run")
                        .setRetryable(false).build())
                .build();
        emit(state, runKey, failed, null, now);
        metrics.abandoned();
    }
}
