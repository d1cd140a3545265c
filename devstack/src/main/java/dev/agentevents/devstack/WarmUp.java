package dev.agentevents.devstack;

import dev.agentevents.fanout.FanoutNode;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Simulated runs through the whole pipeline before it is declared ready, so that the first events real users send
 * do not wait while this JVM loads and compiles the code on their path (the broker's, the publisher's, the
 * router's, the fanout nodes'). Without it, a fresh pipeline's p99 publish → frame over its first 10 s at
 * 1,000 events/s was 3.8 s (the latency benchmark's cold-start series); a second pipeline started in the same
 * JVM — same work, new topics and groups, code already compiled — stayed near its warm figures.
 *
 * <p>Plays runs for users {@code warm-up-<n>} ({@link #USERS_PER_NODE} on partitions of each node) at {@link #RATE}
 * events/s for {@link #DURATION}, with one WebSocket client per user on its node, lets the runs in progress end, and
 * returns once every acknowledged event has reached its client (or after {@link #TIMEOUT}, saying so). The warm-up
 * users' runs stay in the topics like any other user's.
 */
public final class WarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);

    public static final String USER_PREFIX = "warm-up-";
    static final double RATE = 2000;
    static final int USERS_PER_NODE = 8;
    static final Duration DURATION = Duration.ofSeconds(10);
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private WarmUp() {
    }

    /** Warms the pipeline up through {@code publisher} and {@code nodes}; logs what arrived. */
    public static void run(EventPublisher publisher, List<FanoutNode> nodes) throws Exception {
        List<String> users = new ArrayList<>();
        List<WebSocket> sockets = new ArrayList<>();
        AtomicLong arrived = new AtomicLong();
        HttpClient http = HttpClient.newHttpClient();
        int candidate = 0;
        for (FanoutNode node : nodes) {
            for (int found = 0; found < USERS_PER_NODE && candidate < 10_000; candidate++) {
                String user = USER_PREFIX + candidate;
                if (node.ownedPartitions().contains(node.partitionOf(user))) {
                    users.add(user);
                    sockets.add(http.newWebSocketBuilder().buildAsync(URI.create(node.webSocketUrl()
                            + "?access_token=" + node.issueToken(user, Duration.ofMinutes(5))), new Counting(arrived))
                            .get(10, TimeUnit.SECONDS));
                    found++;
                }
            }
        }
        long start = System.nanoTime();
        AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, RATE, 0, 2, 0,
                start), new AgentSimulator.Listener() { }).start();
        Thread.sleep(DURATION.toMillis());
        simulator.finish();
        simulator.awaitFinished(TIMEOUT);
        publisher.flush();
        long acknowledged = simulator.stats().acknowledged();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (arrived.get() < acknowledged && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        for (WebSocket socket : sockets) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "warmed up");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (arrived.get() < acknowledged) {
            LOG.warn("warm-up: only {} of {} events reached their clients within {} s; the first events after start "
                    + "may be slow", arrived.get(), acknowledged, TIMEOUT.toSeconds());
        } else {
            LOG.info("warm-up: {} events of {} simulated users through the pipeline in {} s", arrived.get(),
                    users.size(), String.format("%.1f", seconds));
        }
    }

    /** Counts the event frames one socket receives (a message may come in parts, split anywhere). */
    private static final class Counting implements WebSocket.Listener {
        private static final String EVENT = "{\"type\":\"event\"";
        private final AtomicLong arrived;
        private final StringBuilder start = new StringBuilder();

        Counting(AtomicLong arrived) {
            this.arrived = arrived;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            if (start.length() < EVENT.length()) {
                start.append(data, 0, Math.min(data.length(), EVENT.length() - start.length()));
            }
            if (last) {
                if (start.toString().equals(EVENT)) {
                    arrived.incrementAndGet();
                }
                start.setLength(0);
            }
            socket.request(1);
            return CompletableFuture.completedFuture(null);
        }
    }
}
