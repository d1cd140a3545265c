package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No client can starve a node or be handed to a stranger: a silent connection is cut, one address and the node as a whole
 * have connection caps (answered 429 and 503), the per-user limit holds under a race across event loops, a trusted
 * proxy's X-Forwarded-For names the client, the demo refuses a non-loopback address, a group member advertising a URL
 * off the allow-list is never handed out, and permessage-deflate is negotiated only when switched on.
 */
class ConnectionLimitsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static Vertx vertx;
    private static Tokens tokens;
    private FanoutFixture fixture;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
        tokens = new Tokens(vertx);
    }

    @AfterAll
    static void close() {
        vertx.close();
    }

    @BeforeEach
    void fixture() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void shouldCutASilentConnectionAfterTheIdleTimeoutAndKeepServingOthers() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_IDLE_TIMEOUT_MS", "2000",
                "FANOUT_PING_INTERVAL_MS", "1000"));
        long start = System.nanoTime();
        try (Socket silent = new Socket("127.0.0.1", node.port())) {
            silent.setSoTimeout(15_000);
            silent.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            int read;
            try {
                read = silent.getInputStream().read();
            } catch (IOException e) {
                read = -1;
            }
            assertThat(read).as("the node closed the connection").isEqualTo(-1);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        try (WsClient innocent = WsClient.connect(vertx, WsClient.url(node, tokens.valid("ann"), null))) {
            innocent.awaitFrame("welcome", WAIT);
            innocent.assertOpenFor(Duration.ofSeconds(4)); // idle past the timeout, but pinged: a live socket is not cut
        }
    }

    @Test
    void shouldRefuseConnectionsBeyondTheAddressCapWith429AndBeyondTheNodeCapWith503() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_MAX_CONNECTIONS_PER_ADDRESS", "3",
                "FANOUT_MAX_CONNECTIONS", "5", "FANOUT_MAX_CONNECTIONS_PER_USER", "10",
                "FANOUT_TRUSTED_PROXIES", "127.0.0.1"));
        List<WsClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                open.add(connect(node, "flooder", "198.51.100.7"));
            }
            assertThatThrownBy(() -> connect(node, "flooder", "198.51.100.7"))
                    .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus())
                            .isEqualTo(429));
            open.add(connect(node, "neighbour", "203.0.113.9"));
            open.add(connect(node, "neighbour", "203.0.113.10"));
            assertThatThrownBy(() -> connect(node, "late", "203.0.113.11"))
                    .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus())
                            .isEqualTo(503));
            String metrics = FanoutNodeTest.scrape(node);
            assertThat(metrics).contains("fanout_refused_total{reason=\"address_connections\"} 1.0")
                    .contains("fanout_refused_total{reason=\"node_connections\"} 1.0");
        } finally {
            open.forEach(WsClient::close);
        }
        await().atMost(WAIT).until(() -> node.connectionCount() == 0);
        try (WsClient after = connect(node, "late", "203.0.113.11")) {
            after.awaitFrame("welcome", WAIT);
        }
    }

    /** Connects as {@code user} through the (trusted) loopback proxy for {@code address}; fails on refusal. */
    private WsClient connect(FanoutNode node, String user, String address) throws Exception {
        WebSocketClient client = vertx.createWebSocketClient();
        try {
            WsClient ws = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user), null), null,
                    Map.of("X-Forwarded-For", address));
            ws.await("welcome for " + user, c -> !c.ofType("welcome").isEmpty(), WAIT);
            return ws;
        } finally {
            client.close();
        }
    }

    @Test
    void shouldHoldThePerUserLimitWhenManyConnectionsRaceOnEveryEventLoop() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_MAX_CONNECTIONS_PER_USER", "3"));
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100));
        List<WsClient> sockets = new ArrayList<>();
        try {
            List<java.util.concurrent.CompletableFuture<WsClient>> attempts = new ArrayList<>();
            java.util.concurrent.ExecutorService racers = java.util.concurrent.Executors.newFixedThreadPool(40);
            for (int i = 0; i < 40; i++) {
                attempts.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return WsClient.connect(vertx, WsClient.url(node, tokens.valid("racer"), null));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, racers));
            }
            for (java.util.concurrent.CompletableFuture<WsClient> attempt : attempts) {
                sockets.add(attempt.get(20, TimeUnit.SECONDS));
            }
            racers.shutdown();
            await().atMost(WAIT).until(() -> sockets.stream().allMatch(s -> !s.ofType("welcome").isEmpty()
                    || s.closeCode.isDone()));
            long welcomed = sockets.stream().filter(s -> !s.ofType("welcome").isEmpty() && !s.closeCode.isDone())
                    .count();
            long refused = sockets.stream().filter(s -> s.closeCode.isDone()
                    && s.closeCode.getNow((short) 0) == WebSocketTransport.TOO_MANY_CONNECTIONS).count();
            assertThat(welcomed).isEqualTo(3);
            assertThat(refused).isEqualTo(37);
        } finally {
            sockets.forEach(WsClient::close);
            client.close();
        }
    }

    @Test
    void shouldRefuseTheDemoOnAnAddressOtherMachinesReachUnlessForced() {
        Map<String, String> env = fixture.env("demo-anywhere");
        env.put("FANOUT_DEMO", "true");
        env.put("FANOUT_HOST", "0.0.0.0");
        assertThatThrownBy(() -> FanoutConfig.fromEnv(env)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FANOUT_DEMO=true hands out tokens for any user")
                .hasMessageContaining("FANOUT_DEMO_ON_ANY_HOST");
        env.put("FANOUT_DEMO_ON_ANY_HOST", "true");
        assertThat(FanoutConfig.fromEnv(env).demo()).isTrue();
    }

    @Test
    void shouldNeverHandOutTheUrlOfAGroupMemberOffTheAllowList() throws Exception {
        FanoutNode node = fixture.startNode("honest", Map.of());
        Map<String, Object> rogue = new HashMap<>();
        rogue.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, fixture.stack.bootstrapServers());
        rogue.put(ConsumerConfig.GROUP_ID_CONFIG, fixture.groupId);
        rogue.put(ConsumerConfig.CLIENT_ID_CONFIG, OwnerDirectory.clientId("evil", "ws://evil.example.com/ws"));
        rogue.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        try (KafkaConsumer<byte[], byte[]> impostor = new KafkaConsumer<>(rogue, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            impostor.subscribe(List.of(fixture.topics.ordered()));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                impostor.poll(Duration.ofMillis(100));
                return !impostor.assignment().isEmpty() && node.ownedPartitions().size() < FanoutFixture.PARTITIONS;
            });
            int stolen = impostor.assignment().iterator().next().partition();
            String victim = FanoutFixture.usersInOnePartition(node, 1).get(0);
            for (int i = 0; node.partitionOf(victim) != stolen; i++) {
                victim = "victim-" + i;
            }
            var route = FanoutNodeTest.get(node, "/route", tokens.valid(victim));
            assertThat(route.statusCode()).isEqualTo(503);
            assertThat(route.body()).doesNotContain("evil");
            assertThat(FanoutNodeTest.scrape(node)).contains("fanout_refused_total{reason=\"node_url\"}");
        }
    }

    @Test
    void shouldNegotiatePerMessageDeflateOnlyWhenSwitchedOn() throws Exception {
        FanoutNode plain = fixture.startSoleNode(Map.of());
        assertThat(negotiatedExtensions(plain)).doesNotContain("permessage-deflate");
        fixture.stop(plain);
        FanoutNode compressing = fixture.startSoleNode(Map.of("FANOUT_WS_COMPRESSION", "on"));
        assertThat(negotiatedExtensions(compressing)).contains("permessage-deflate");
    }

    /** The Sec-WebSocket-Extensions the node answers to a Chromium-like offer. */
    private String negotiatedExtensions(FanoutNode node) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /ws?access_token=" + tokens.valid("zed") + " HTTP/1.1\r\n"
                    + "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            StringBuilder response = new StringBuilder();
            InputStream in = socket.getInputStream();
            int b;
            while (response.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0) {
                response.append((char) b);
            }
            assertThat(response.toString()).startsWith("HTTP/1.1 101");
            return response.toString().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
