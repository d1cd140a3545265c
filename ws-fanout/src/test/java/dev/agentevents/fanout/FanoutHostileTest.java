package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.management.ObjectName;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that misbehave at volume, against one real node: a flood of client messages, thousands of connections
 * opened and dropped. Each misbehaving connection gets its documented close code, other users keep receiving, and
 * nothing of the churn stays behind (connections, subscribers, heap, file descriptors).
 * Bad tokens, foreign runs and partitions, binary, oversized and unread sockets are in {@link FanoutNodeTest}.
 */
class FanoutHostileTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ExecutorService RAW_SOCKETS = Executors.newFixedThreadPool(16);
    private static Vertx vertx;
    private static Tokens tokens;
    private FanoutFixture fixture;

    @BeforeAll
    static void clients() {
        vertx = Vertx.vertx();
        tokens = new Tokens(vertx);
    }

    @AfterAll
    static void closeClients() {
        vertx.close();
        RAW_SOCKETS.shutdownNow();
    }

    @BeforeEach
    void fixture() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void shouldClose10000MessagesPerSecondWith1008WhileItsNeighboursKeepReceiving() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<String> users = FanoutFixture.usersInOnePartition(node, 2);
        String flooder = users.get(0);
        String neighbour = users.get(1);
        try (WsClient flood = WsClient.connect(vertx, WsClient.url(node, tokens.valid(flooder), null));
             WsClient floodersOtherTab = WsClient.connect(vertx, WsClient.url(node, tokens.valid(flooder), null));
             WsClient other = WsClient.connect(vertx, WsClient.url(node, tokens.valid(neighbour), null))) {
            for (WsClient client : List.of(flood, floodersOtherTab, other)) {
                client.awaitFrame("welcome", WAIT);
            }
            // 10,000 messages in one second, in 100 bursts of 100
            Promise<Void> sent = Promise.promise();
            long[] bursts = {0};
            vertx.setPeriodic(10, id -> {
                if (flood.socket.isClosed() || bursts[0]++ == 100) {
                    vertx.cancelTimer(id);
                    sent.tryComplete();
                    return;
                }
                for (int i = 0; i < 100; i++) {
                    flood.socket.writeTextMessage("{\"type\":\"ping\"}");
                }
            });
            fixture.writeAll(FanoutFixture.run(neighbour, "run-n"));
            fixture.writeAll(FanoutFixture.run(flooder, "run-f"));

            assertThat(flood.awaitClose(WAIT)).isEqualTo((short) 1008);
            assertThat(flood.closeReason).contains("more than 20 messages per second");
            sent.future().await(10, TimeUnit.SECONDS);
            other.awaitEvents(5, WAIT);
            floodersOtherTab.awaitEvents(5, WAIT);
            assertThat(other.events()).extracting(e -> e.getLong("seq")).containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(floodersOtherTab.events()).extracting(e -> e.getLong("seq"))
                    .containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(other.socket.isClosed()).isFalse();
            assertThat(floodersOtherTab.socket.isClosed()).isFalse();
        }
        assertThat(FanoutNodeTest.scrape(node)).contains("fanout_refused_total{reason=\"client_message_rate\"} 1.0");
    }

    @Test
    void shouldLeaveNothingBehindAfter5000ConnectsAndDisconnects() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        WebSocketClient client = vertx.createWebSocketClient();
        List<String> users = List.of("churn-0", "churn-1", "churn-2", "churn-3", "churn-4");
        List<String> userTokens = users.stream().map(tokens::valid).toList();
        try {
            churn(client, node, userTokens, 200); // warm up pools, JIT and lazily created state
            awaitNoConnections(node);
            long heapBefore = settledHeap();
            long fdsBefore = openFileDescriptors();

            int total = churn(client, node, userTokens, 5_000);

            assertThat(total).isEqualTo(5_000);
            awaitNoConnections(node);
            assertThat(instances(Connections.Connection.class.getName())).isZero();
            assertThat(instances(Subscriber.class.getName())).isZero();
            long heapAfter = settledHeap();
            assertThat(heapAfter - heapBefore).as("heap growth after 5,000 connections (bytes)")
                    .isLessThan(16L * 1024 * 1024);
            if (fdsBefore >= 0) {
                assertThat(openFileDescriptors() - fdsBefore).as("file descriptors left open").isLessThanOrEqualTo(8);
            }
            assertThat(FanoutNodeTest.scrape(node)).contains("fanout_connections{transport=\"websocket\"} 0.0");
        } finally {
            client.close();
        }
        // and the node still serves
        try (WsClient after = WsClient.connect(vertx, WsClient.url(node, tokens.valid("churn-0"), null))) {
            after.awaitFrame("welcome", WAIT);
            fixture.writeAll(FanoutFixture.run("churn-0", "run-after"));
            after.awaitEvents(5, WAIT);
        }
    }

    /** The zero counts above mean something only if the histogram does find live instances. */
    @Test
    void shouldCountLiveInstancesFromTheClassHistogram() throws Exception {
        assumeThat(ManagementFactory.getPlatformMBeanServer().isRegistered(
                new ObjectName("com.sun.management:type=DiagnosticCommand"))).isTrue();
        FanoutHostileTest keep = this;
        assertThat(instances(FanoutHostileTest.class.getName())).isPositive();
        assertThat(keep).isNotNull();
    }

    /**
     * Opens {@code count} connections, 50 at a time. Of every four, two wait for their welcome and close politely,
     * one is a raw socket reset without a closing handshake once welcomed (as a dropped network does), one sends its
     * upgrade request and is reset at once (it may go while its token is checked). Returns how many did what they
     * set out to.
     */
    private static int churn(WebSocketClient client, FanoutNode node, List<String> userTokens, int count)
            throws Exception {
        int done = 0;
        int welcomed = 0;
        while (done < count) {
            List<CompletableFuture<Boolean>> batch = new ArrayList<>();
            for (int i = 0; i < 50 && done < count; i++, done++) {
                String token = userTokens.get(done % userTokens.size());
                int kind = done % 4;
                batch.add(kind < 2 ? politeConnection(client, node, token).toCompletionStage().toCompletableFuture()
                        : CompletableFuture.supplyAsync(() -> abruptConnection(node, token, kind == 2), RAW_SOCKETS));
            }
            for (CompletableFuture<Boolean> result : batch) {
                if (result.get(30, TimeUnit.SECONDS)) {
                    welcomed++;
                }
            }
        }
        return welcomed;
    }

    private static Future<Boolean> politeConnection(WebSocketClient client, FanoutNode node, String token) {
        ClientWebSocket socket = client.webSocket();
        Promise<Boolean> welcomed = Promise.promise();
        Promise<Void> closed = Promise.promise();
        socket.textMessageHandler(text -> {
            if (!welcomed.future().isComplete() && text.contains("\"welcome\"")) {
                welcomed.complete(true);
                socket.close();
            }
        });
        socket.closeHandler(v -> {
            welcomed.tryComplete(false);
            closed.tryComplete();
        });
        socket.connect(new WebSocketConnectOptions().setAbsoluteURI(WsClient.url(node, token, null)))
                .onFailure(e -> {
                    welcomed.tryComplete(false);
                    closed.tryComplete();
                });
        return welcomed.future().compose(ok -> closed.future().map(ok));
    }

    /** A hand-made upgrade on a plain socket that goes away with a TCP reset, once welcomed or at once. */
    private static boolean abruptConnection(FanoutNode node, String token, boolean awaitWelcome) {
        try (Socket socket = new Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(10_000);
            socket.setSoLinger(true, 0);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            socket.getOutputStream().write(("GET /ws?access_token=" + token + " HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + node.port() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            if (!awaitWelcome) {
                return true;
            }
            InputStream in = socket.getInputStream();
            StringBuilder seen = new StringBuilder();
            byte[] buffer = new byte[4096];
            int read;
            while (seen.indexOf("\"welcome\"") < 0 && (read = in.read(buffer)) > 0) {
                seen.append(new String(buffer, 0, read, StandardCharsets.ISO_8859_1));
            }
            return seen.indexOf("\"welcome\"") >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static void awaitNoConnections(FanoutNode node) {
        Awaitility.await("no connection left open on the node").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(node.connectionCount()).as("connections").isZero());
    }

    private static long settledHeap() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200); // not a condition: time for the collector's concurrent work; the least of three counts
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /** Live instances of a class, from the JVM's own class histogram (which runs a full GC first). */
    private static long instances(String className) throws Exception {
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        for (String line : histogram.split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 4 && columns[3].equals(className)) {
                return Long.parseLong(columns[1]);
            }
        }
        return 0;
    }

    /** Open file descriptors of this JVM, or -1 where /proc is not there. */
    private static long openFileDescriptors() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (Stream<Path> list = Files.list(fds)) {
            return list.count();
        }
    }
}
