package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.Meter;
import dev.agentevents.bench.fanout.BareWsServer;
import dev.agentevents.bench.fanout.FrameTemplate;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.fanout.Hs256Tokens;
import java.time.Duration;
import java.util.List;

/**
 * The throughput benchmark's bare end-to-end path, doing the pipeline's transport work and none of its own: the bare
 * exactly-once Streams hop ({@link BareStreamsHop}: a producer with the publisher's settings, a hop that copies each
 * record) → a bare Vert.x server with a plain consumer pushing a pre-rendered frame of the same size as the node's to
 * each user's socket ({@link BareWsServer}) → the same WebSocket clients as the pipeline's ({@link SocketClients}:
 * parse every frame, latency from its {@code occurredAt}, here the record's timestamp).
 */
final class BareEndToEnd implements AutoCloseable {

    private final BareStreamsHop hop;
    private final BareWsServer server;
    private final SocketClients clients;

    BareEndToEnd(EmbeddedStack stack, String prefix, String guarantee, Duration commit, int partitions, int threads,
                 List<String> users, AgentEvent typical, Meter meter) throws Exception {
        hop = new BareStreamsHop(stack, prefix, guarantee, commit, partitions, threads, null);
        server = new BareWsServer(stack.bootstrapServers(), hop.out(), new FrameTemplate(typical));
        clients = new SocketClients(1);
        clients.connect(server.url(), users, user -> Hs256Tokens.issue(PipelineUnderTest.SECRET, user,
                Duration.ofHours(1)), meter);
        hop.awaitRunning();
    }

    /** Sends one pre-serialized event, created now (the record's timestamp is what the frame carries). */
    void send(byte[] key, byte[] value) {
        hop.send(key, value);
    }

    @Override
    public void close() throws Exception {
        clients.close();
        server.close();
        hop.close();
    }
}
