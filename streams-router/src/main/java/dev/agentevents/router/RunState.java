package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.schemas.HashChain;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.utils.Bytes;

/**
 * What the router remembers about one run between its events, kept in the {@code runs} state store: where the
 * run is (next seq to emit, hash chain), which tool calls are open, which seqs it gave up on, and the clocks the
 * timeout sweep reads. Encoded compactly by hand (a version byte first) because it is read and written for every
 * event.
 */
final class RunState {

    private static final byte VERSION = 2;
    private static final int RECENT_IDS = 16;
    private static final int REMEMBERED_GAPS = 16;
    private static final HexFormat HEX = HexFormat.of();

    final String userId;
    final String runId;
    final String threadId;
    final String parentRunId;
    final String traceId;
    final AgentInfo agent;
    long nextSeq;
    String lastHash = HashChain.GENESIS;
    boolean terminal;
    long terminalSeq = -1;
    long endedAtMs;
    long lastEventAtMs;
    long waitingSinceMs;
    int pendingCount;
    long pendingBytes;
    long startEventIdHash;
    final Set<String> openToolCalls = new LinkedHashSet<>();
    final List<Long> recentEventIdHashes = new ArrayList<>();
    final List<long[]> gaps = new ArrayList<>();
    /** The encoded version byte and the fields that never change after the run's first event, made once. */
    private byte[] encodedIdentity;

    RunState(String userId, String runId, String threadId, String parentRunId, String traceId, AgentInfo agent) {
        this.userId = userId;
        this.runId = runId;
        this.threadId = threadId;
        this.parentRunId = parentRunId;
        this.traceId = traceId;
        this.agent = agent;
    }

    static RunState startedBy(AgentEvent event) {
        return new RunState(event.getUserId(), event.getRunId(), event.getThreadId(), event.getParentRunId(),
                event.getTraceId(), event.getAgent());
    }

    // ---------------------------------------------------------------- queries and updates

    static long hash(String eventId) {
        long h = 1125899906842597L;
        for (int i = 0; i < eventId.length(); i++) {
            h = 31 * h + eventId.charAt(i);
        }
        return h;
    }

    boolean recentlySaw(String eventId) {
        long h = hash(eventId);
        return recentEventIdHashes.contains(h) || (nextSeq > 0 && h == startEventIdHash);
    }

    void remember(AgentEvent event) {
        long h = hash(event.getEventId());
        if (event.getSeq() == 0) {
            startEventIdHash = h;
        }
        recentEventIdHashes.add(h);
        if (recentEventIdHashes.size() > RECENT_IDS) {
            recentEventIdHashes.remove(0);
        }
    }

    void rememberGap(long fromSeq, long toSeq) {
        gaps.add(new long[] {fromSeq, toSeq});
        if (gaps.size() > REMEMBERED_GAPS) {
            gaps.remove(0);
        }
    }

    boolean inGap(long seq) {
        return gaps.stream().anyMatch(g -> seq >= g[0] && seq <= g[1]);
    }

    // ---------------------------------------------------------------- keys

    /** The run's key: length-prefixed user and run ids, so no id can be a prefix of another's key. */
    static Bytes runKey(String userId, String runId) {
        byte[] user = userId.getBytes(StandardCharsets.UTF_8);
        byte[] run = runId.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(8 + user.length + run.length)
                .putInt(user.length).put(user).putInt(run.length).put(run).array());
    }

    /** A pending event's key: the run's key, then the seq (big-endian, so keys sort by seq). */
    static Bytes pendingKey(Bytes runKey, long seq) {
        return Bytes.wrap(ByteBuffer.allocate(runKey.get().length + 8).put(runKey.get()).putLong(seq).array());
    }

    static long seqOfPendingKey(Bytes key) {
        byte[] bytes = key.get();
        return ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong();
    }

    // ---------------------------------------------------------------- encoding

    byte[] encode() {
        byte[] identity = encodedIdentity();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(identity.length + 192);
        buffer.writeBytes(identity);
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeLong(nextSeq);
            out.write(HEX.parseHex(lastHash));
            out.writeBoolean(terminal);
            out.writeLong(terminalSeq);
            out.writeLong(endedAtMs);
            out.writeLong(lastEventAtMs);
            out.writeLong(waitingSinceMs);
            out.writeInt(pendingCount);
            out.writeLong(pendingBytes);
            out.writeLong(startEventIdHash);
            out.writeInt(openToolCalls.size());
            for (String id : openToolCalls) {
                text(out, id);
            }
            out.writeInt(recentEventIdHashes.size());
            for (long h : recentEventIdHashes) {
                out.writeLong(h);
            }
            out.writeInt(gaps.size());
            for (long[] gap : gaps) {
                out.writeLong(gap[0]);
                out.writeLong(gap[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    private byte[] encodedIdentity() {
        if (encodedIdentity == null) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(128);
            try (DataOutputStream out = new DataOutputStream(buffer)) {
                out.writeByte(VERSION);
                text(out, userId);
                text(out, runId);
                text(out, threadId);
                text(out, parentRunId);
                text(out, traceId);
                text(out, agent.getId());
                text(out, agent.getName());
                text(out, agent.getVersion());
                text(out, agent.getModel());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            encodedIdentity = buffer.toByteArray();
        }
        return encodedIdentity;
    }

    /** The size of {@link #encode()}'s result, without encoding. */
    long encodedSize() {
        long size = 1 + text(userId) + text(runId) + text(threadId) + text(parentRunId) + text(traceId)
                + text(agent.getId()) + text(agent.getName()) + text(agent.getVersion()) + text(agent.getModel())
                + 8 + 32 + 1 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 4 + 4 + 8L * recentEventIdHashes.size() + 4
                + 16L * gaps.size();
        for (String id : openToolCalls) {
            size += text(id);
        }
        return size;
    }

    /** The encoded size of {@code value} as {@link #text(DataOutputStream, String)} writes it. */
    static long text(String value) {
        return 4 + (value == null ? 0 : EventValidator.utf8Length(value));
    }

    static RunState decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte version = in.readByte();
            if (version != VERSION && version != 1) {
                throw new IllegalStateException("run state of version " + version + " is not readable by this router"
                        + " (reads versions 1 and " + VERSION + ")");
            }
            String userId = text(in);
            String runId = text(in);
            String threadId = text(in);
            String parentRunId = text(in);
            String traceId = text(in);
            AgentInfo agent = AgentInfo.newBuilder().setId(text(in)).setName(text(in)).setVersion(text(in))
                    .setModel(text(in)).build();
            RunState state = new RunState(userId, runId, threadId, parentRunId, traceId, agent);
            state.nextSeq = in.readLong();
            byte[] hash = new byte[32];
            in.readFully(hash);
            state.lastHash = HEX.formatHex(hash);
            state.terminal = in.readBoolean();
            state.terminalSeq = in.readLong();
            state.endedAtMs = in.readLong();
            state.lastEventAtMs = in.readLong();
            state.waitingSinceMs = in.readLong();
            state.pendingCount = in.readInt();
            state.pendingBytes = version == 1 ? 0 : in.readLong(); // version 1 did not count held bytes
            state.startEventIdHash = in.readLong();
            int open = in.readInt();
            for (int i = 0; i < open; i++) {
                state.openToolCalls.add(text(in));
            }
            int recent = in.readInt();
            for (int i = 0; i < recent; i++) {
                state.recentEventIdHashes.add(in.readLong());
            }
            int gaps = in.readInt();
            for (int i = 0; i < gaps; i++) {
                state.gaps.add(new long[] {in.readLong(), in.readLong()});
            }
            return state;
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable run state", e);
        }
    }

    private static void text(DataOutputStream out, String value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String text(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
