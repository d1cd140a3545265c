package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Failed;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.SourcePosition;
import dev.agentevents.router.RouterMetrics.Duplicate;
import dev.agentevents.router.RouterMetrics.GapReason;
import dev.agentevents.schemas.EventType;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The router's one processor: validates each event ({@link EventValidator}), drops duplicates, and emits each run's
 * events in seq order with the run's hash chain, holding early arrivals in the {@code pending} store and counting
 * each user's open runs in the {@code open-runs} store. A wall-clock sweep gives up on missing seqs after the gap
 * timeout (gap marker), closes idle runs with {@code agent_failed{code=ABANDONED}}, and forgets finished runs after
 * the grace period, acting on at most {@code ROUTER_MAX_SWEEP_RUNS} runs per interval. Rejected input goes to the
 * dead-letter sink, original bytes and all up to the dead-letter budget ({@link DeadLetters}); nothing is only
 * logged.
 *
 * <p>The sweep does not scan the store: an in-memory index holds each run's next deadline (the earliest of gap
 * timeout, abandonment and end of grace), moved earlier when the run's state is written (never later: a run whose
 * deadline came too early is looked at and given its real one) and rebuilt from the store when the task is
 * initialized (after a restart, a migration or an aborted transaction). The store stays the truth: a due run is
 * read back and re-checked before anything happens to it. Each event is encoded once: the chain link is computed
 * over the bytes the ordered record carries ({@link OutgoingEvent}).
 */
final class RunSequencer implements Processor<byte[], IncomingEvent, Object, Object> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RunSequencer.class);

    static final String RUNS_STORE = "runs";
    static final String PENDING_STORE = "pending";
    static final String OPEN_RUNS_STORE = "open-runs";
    static final String ORDERED_SINK = "ordered-sink";
    static final String DLQ_SINK = "dead-letter-sink";
    private static final int RECENT_STATES = 4096;
    private static final long RECENT_STATE_BYTES = 4L * 1024 * 1024;
    /** A refused write is retried with a small dead letter; after this many refusals the input is given up on. */
    private static final int MAX_REFUSALS = 3;

    private final RouterConfig config;
    private final RouterLimits limits;
    private final RouterMetrics metrics;
    private final RouterErrors errors;
    private final InputProgress progress;
    private final EventValidator validator;
    private final int inputPartitions;
    private boolean warnedMisrouted;
    private int partition;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Bytes, byte[]> runs;
    private KeyValueStore<Bytes, byte[]> pending;
    private KeyValueStore<Bytes, byte[]> openRuns;
    private final Deadlines deadlines = new Deadlines();
    /** Cleared when the task is initialized and whenever processing fails part-way, so it never holds a state the
     * store does not. */
    private final RecentStates recentStates = new RecentStates(RECENT_STATES, RECENT_STATE_BYTES);

    RunSequencer(RouterConfig config, RouterErrors errors, InputProgress progress, int inputPartitions) {
        this.inputPartitions = inputPartitions;
        this.config = config;
        this.limits = config.limits();
        this.errors = errors;
        this.metrics = errors.metrics();
        this.progress = progress;
        this.validator = new EventValidator(limits);
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.partition = context.taskId().partition();
        this.runs = context.getStateStore(RUNS_STORE);
        this.pending = context.getStateStore(PENDING_STORE);
        this.openRuns = context.getStateStore(OPEN_RUNS_STORE);
        deadlines.clear();
        recentStates.clear();
        try (KeyValueIterator<Bytes, byte[]> it = runs.all()) {
            it.forEachRemaining(entry -> deadlines.set(entry.key, nextDeadline(RunState.decode(entry.value))));
        }
        context.schedule(config.sweepInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    /** Where the record being processed was read, its bytes, and its headers (null for held events). */
    private record Source(String topic, int partition, long offset, byte[] rawKey, byte[] rawValue,
                          Iterable<Header> headers) {

        DeadLetters.Origin origin() {
            return new DeadLetters.Origin(topic, partition, offset);
        }
    }

    // ---------------------------------------------------------------- input

    @Override
    public void process(Record<byte[], IncomingEvent> record) {
        long now = context.currentSystemTimeMs();
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        Source source = new Source(meta.topic(), meta.partition(), meta.offset(), record.key(),
                record.value().rawValue(), record.headers());
        try {
            if (errors.refusals(meta.topic(), meta.partition(), meta.offset()) > 0) {
                throw new Rejection(RejectReason.WRITE_FAILED, "Kafka refused a record the router wrote for this"
                        + " input; it is kept here in a small dead letter instead");
            }
            checkPartition(record.key(), meta.partition());
            validator.validate(record.key(), record.value());
            accept(record.value().event(), source, now);
        } catch (Rejection rejection) {
            reject(source, rejection, now);
        } catch (RuntimeException e) {
            recentStates.clear();
            throw e;
        }
    }

    /**
     * Counts input on another partition than murmur2 of its key names: the producer does not partition as Java
     * producers and the ordered topic do, so a user's events may be split over partitions and lose their order.
     * Warns once per task (records do not carry the producer's client id).
     */
    private void checkPartition(byte[] key, int partition) {
        if (inputPartitions < 1 || key == null) {
            return;
        }
        int expected = Utils.toPositive(Utils.murmur2(key)) % inputPartitions;
        if (expected != partition) {
            metrics.misrouted();
            if (!warnedMisrouted) {
                warnedMisrouted = true;
                LOG.warn("input record with key {} is on partition {} but murmur2 of its key names partition {}: a"
                        + " producer is not partitioning as Java does (librdkafka clients need"
                        + " partitioner=murmur2_random); counted in router_misrouted_input_total",
                        DeadLetters.quote(new String(key, StandardCharsets.UTF_8)), partition, expected);
            }
        }
    }

    private void accept(AgentEvent event, Source source, long now) throws Rejection {
        Bytes runKey = RunState.runKey(event.getUserId(), event.getRunId());
        RunState stored = load(runKey);
        RunState state = stored == null ? newRun(event) : stored;
        if (!state.threadId.equals(event.getThreadId())) {
            throw new Rejection(RejectReason.THREAD_MISMATCH, "event of run '" + event.getRunId() + "' names thread '"
                    + event.getThreadId() + "' but the run belongs to thread '" + state.threadId + "'");
        }
        long seq = event.getSeq();
        if (state.recentlySaw(event.getEventId())) {
            metrics.dropped(Duplicate.DUPLICATE_EVENT_ID);
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
            metrics.dropped(Duplicate.DUPLICATE_SEQ);
            return;
        }
        state.lastEventAtMs = now;
        if (seq == state.nextSeq) {
            emit(state, runKey, event, source, now);
            drain(state, runKey, now);
        } else {
            Bytes pendingKey = RunState.pendingKey(runKey, seq);
            if (pending.get(pendingKey) != null) {
                metrics.dropped(Duplicate.DUPLICATE_SEQ);
                return;
            }
            byte[] held = new PendingEvent(source.partition(), source.offset(), now, source.rawKey(),
                    source.rawValue(), event).encode();
            pending.put(pendingKey, held);
            state.pendingCount++;
            state.pendingBytes += held.length;
            if (state.waitingSinceMs == 0) {
                state.waitingSinceMs = now;
            }
            if (state.pendingCount > limits.maxPendingPerRun() || state.pendingBytes > limits.maxPendingBytesPerRun()) {
                giveUpWaiting(state, runKey, GapReason.BUFFER_FULL, now);
            }
        }
        if (stored == null) {
            changeOpenRuns(state.userId, +1);
        }
        save(runKey, state);
    }

    /** The state of a run this event is the first of, unless its user has too many open runs or it is too large. */
    private RunState newRun(AgentEvent event) throws Rejection {
        int open = openRuns(event.getUserId());
        if (open >= limits.maxOpenRunsPerUser()) {
            throw new Rejection(RejectReason.TOO_MANY_OPEN_RUNS, "user " + DeadLetters.quote(event.getUserId())
                    + " already has " + open + " runs that have not ended (ROUTER_MAX_OPEN_RUNS_PER_USER "
                    + limits.maxOpenRunsPerUser() + "); run " + DeadLetters.quote(event.getRunId()) + " is refused");
        }
        RunState state = RunState.startedBy(event);
        if (state.encodedSize() > limits.maxRunStateBytes()) {
            throw new Rejection(RejectReason.STATE_TOO_LARGE, "run " + DeadLetters.quote(event.getRunId())
                    + " would need " + state.encodedSize() + " bytes of state; ROUTER_MAX_RUN_STATE_BYTES is "
                    + limits.maxRunStateBytes());
        }
        return state;
    }

    private int openRuns(String userId) {
        byte[] count = openRuns.get(userKey(userId));
        return count == null ? 0 : ByteBuffer.wrap(count).getInt();
    }

    /** Counts a run of {@code userId} opened (+1) or ended (-1); a count of zero is not stored. */
    private void changeOpenRuns(String userId, int delta) {
        int count = Math.max(0, openRuns(userId) + delta);
        if (count == 0) {
            openRuns.delete(userKey(userId));
        } else {
            openRuns.put(userKey(userId), ByteBuffer.allocate(4).putInt(count).array());
        }
    }

    private static Bytes userKey(String userId) {
        return Bytes.wrap(userId.getBytes(StandardCharsets.UTF_8));
    }

    private RunState load(Bytes runKey) {
        RunState state = recentStates.get(runKey);
        if (state == null) {
            byte[] stored = runs.get(runKey);
            if (stored == null) {
                return null;
            }
            state = RunState.decode(stored);
            recentStates.put(runKey, state, stored.length);
        }
        return state;
    }

    private void save(Bytes runKey, RunState state) {
        byte[] encoded = state.encode();
        runs.put(runKey, encoded);
        recentStates.put(runKey, state, encoded.length);
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
        Rejection problem = transitionProblem(state, event);
        if (problem != null) {
            reject(source, problem, now);
            emitGap(state, event.getSeq(), event.getSeq(), GapReason.REJECTED, 0, now);
            return;
        }
        if (EventType.TOOL_EXECUTING.wireName().equals(event.getType())) {
            state.openToolCalls.add(event.getToolCallId());
        } else if (EventType.TOOL_COMPLETED.wireName().equals(event.getType())) {
            state.openToolCalls.remove(event.getToolCallId());
        }
        byte[] eventAvro = HashChain.avroBinary(event);
        OrderedEvent ordered = OrderedRecords.event(state.lastHash, event, eventAvro, Instant.ofEpochMilli(now),
                source == null ? null : new SourcePosition(source.topic(), source.partition(), source.offset()));
        forwardOrdered(new OutgoingEvent(ordered, eventAvro), event, now);
        state.lastHash = ordered.getHash();
        state.nextSeq = event.getSeq() + 1;
        state.remember(event);
        metrics.accepted();
        if (EventType.fromWireName(event.getType()).map(EventType::isTerminal).orElse(false)) {
            state.terminal = true;
            state.terminalSeq = event.getSeq();
            state.endedAtMs = now;
            rejectAllPending(state, runKey, now);
            changeOpenRuns(state.userId, -1);
        }
    }

    /** Why {@code event} may not follow what its run did so far, or null. */
    private Rejection transitionProblem(RunState state, AgentEvent event) {
        // after a gap the tool_executing may have been among the missing events: the result is still the user's,
        // so it is delivered rather than thrown away with the gap
        if (EventType.TOOL_COMPLETED.wireName().equals(event.getType())
                && !state.openToolCalls.contains(event.getToolCallId()) && state.gaps.isEmpty()) {
            return new Rejection(RejectReason.INVALID_TRANSITION, "tool_completed (seq " + event.getSeq()
                    + ") for tool call " + DeadLetters.quote(event.getToolCallId()) + ", which is not executing in run "
                    + DeadLetters.quote(event.getRunId()) + " (executing: " + DeadLetters.quoteAll(state.openToolCalls) + ")");
        }
        if (!EventType.TOOL_EXECUTING.wireName().equals(event.getType())) {
            return null;
        }
        if (state.openToolCalls.contains(event.getToolCallId())) {
            return new Rejection(RejectReason.INVALID_TRANSITION, "tool_executing (seq " + event.getSeq()
                    + ") for tool call " + DeadLetters.quote(event.getToolCallId())
                    + ", which is already executing in run " + DeadLetters.quote(event.getRunId()));
        }
        if (state.openToolCalls.size() >= limits.maxOpenCallsPerRun()) {
            return new Rejection(RejectReason.TOO_MANY_OPEN_CALLS, "tool_executing (seq " + event.getSeq()
                    + ") of run " + DeadLetters.quote(event.getRunId()) + " while " + state.openToolCalls.size()
                    + " calls are executing (ROUTER_MAX_OPEN_CALLS_PER_RUN " + limits.maxOpenCallsPerRun() + ")");
        }
        long size = state.encodedSize() + RunState.text(event.getToolCallId());
        if (size > limits.maxRunStateBytes()) {
            return new Rejection(RejectReason.STATE_TOO_LARGE, "tool_executing (seq " + event.getSeq() + ") of run "
                    + DeadLetters.quote(event.getRunId()) + " would make its state " + size
                    + " bytes (ROUTER_MAX_RUN_STATE_BYTES " + limits.maxRunStateBytes() + ")");
        }
        return null;
    }

    private void forwardOrdered(OutgoingEvent outgoing, AgentEvent event, long now) {
        RecordHeaders headers = new RecordHeaders();
        if (event != null && lowerHex(event.getTraceId(), 32) && lowerHex(event.getSpanId(), 16)) {
            headers.add("traceparent", ("00-" + event.getTraceId() + "-" + event.getSpanId() + "-01")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        context.forward(new Record<>(outgoing.record().getUserId(), outgoing, now, headers), ORDERED_SINK);
    }

    /** Whether {@code value} is {@code length} lowercase hex digits, as W3C trace context wants ids. */
    private static boolean lowerHex(String value, int length) {
        if (value == null || value.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
                return false;
            }
        }
        return true;
    }

    private void emitGap(RunState state, long fromSeq, long toSeq, GapReason reason, long waitedMs, long now) {
        OrderedEvent ordered = OrderedRecords.gap(state.lastHash, state.userId, state.threadId, state.runId,
                new Gap(fromSeq, toSeq, waitedMs, reason.name()), Instant.ofEpochMilli(now));
        forwardOrdered(OutgoingEvent.withoutEvent(ordered), null, now);
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
            state.pendingBytes = Math.max(0, state.pendingBytes - bytes.length);
            PendingEvent held = PendingEvent.decode(bytes);
            emit(state, runKey, held.event(), new Source(config.topics().events(), held.partition(), held.offset(),
                    held.rawKey(), held.rawValue(), null), now);
        }
        state.waitingSinceMs = state.pendingCount > 0 ? now : 0;
    }

    /** Stops waiting for the missing seqs before the first held event: a gap marker, then what can follow. */
    private void giveUpWaiting(RunState state, Bytes runKey, GapReason reason, long now) {
        Long first = firstPendingSeq(runKey);
        if (first == null) {
            state.pendingCount = 0;
            state.pendingBytes = 0;
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
                    event.rawValue(), null), new Rejection(RejectReason.AFTER_TERMINAL, event.event().getType()
                    + " (seq " + event.event().getSeq() + ") of run " + DeadLetters.quote(state.runId)
                    + " comes after its terminal event (seq " + state.terminalSeq + ")"), now);
        }
        state.pendingCount = 0;
        state.pendingBytes = 0;
        state.waitingSinceMs = 0;
    }

    /**
     * Sends the input to the dead-letter sink, bounded; an input whose output Kafka refused before goes as a small
     * dead letter, and after {@value #MAX_REFUSALS} refusals it is given up on (counted, never retried for ever).
     */
    private void reject(Source source, Rejection rejection, long now) {
        int refusals = errors.refusals(source.topic(), source.partition(), source.offset());
        if (refusals >= MAX_REFUSALS) {
            metrics.writeFailed(RouterMetrics.WriteFailure.OTHER);
            return;
        }
        DeadLetters.Letter letter = DeadLetters.build(source.rawKey(), source.rawValue(), source.headers(),
                DeadLetters.Cause.of(rejection.reason(), rejection.getMessage()), source.origin(), now,
                refusals > 0 ? RouterLimits.MIN_DEAD_LETTER_BYTES : limits.maxDeadLetterBytes());
        context.forward(new Record<>(letter.key(), letter.value(), now, letter.headers()), DLQ_SINK);
        metrics.rejected(rejection.reason());
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
        for (Bytes runKey : deadlines.due(now, limits.maxSweepRuns())) {
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
                giveUpWaiting(state, runKey, GapReason.TIMEOUT, now);
                changed = true;
            }
            if (!state.terminal && readUpTo - state.lastEventAtMs >= config.abandonAfter().toMillis()) {
                while (state.pendingCount > 0 && !state.terminal) {
                    giveUpWaiting(state, runKey, GapReason.TIMEOUT, now);
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
