package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.event.AgentEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One fanout node on the real embedded broker, driven over real WebSockets and HTTP. */
class FanoutNodeTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
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
    }

    @BeforeEach
    void fixture() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    private static List<Long> seqs(WsClient client) {
        return client.events().stream().map(e -> e.getLong("seq")).toList();
    }

    @Test
    void shouldSendEachUserOnlyTheirOwnEventsWhenUsersShareAPartition() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<String> users = FanoutFixture.usersInOnePartition(node, 2);
        String alice = users.get(0);
        String bob = users.get(1);
        try (WsClient aliceSocket = WsClient.connect(vertx, WsClient.url(node, tokens.valid(alice), null));
             WsClient bobSocket = WsClient.connect(vertx, WsClient.url(node, tokens.valid(bob), null));
             WsClient snoop = WsClient.connect(vertx, WsClient.url(node, tokens.valid(alice),
                     "runId=run-bob&threadId=thread-" + bob))) {
            aliceSocket.awaitFrame("welcome", WAIT);
            snoop.awaitFrame("welcome", WAIT);
            bobSocket.awaitFrame("welcome", WAIT);
            List<AgentEvent> aliceRun = FanoutFixture.run(alice, "run-alice");
            List<AgentEvent> bobRun = FanoutFixture.run(bob, "run-bob");
            for (int i = 0; i < aliceRun.size(); i++) {
                fixture.write(aliceRun.get(i));
                fixture.write(bobRun.get(i));
            }

            aliceSocket.awaitEvents(5, WAIT);
            bobSocket.awaitEvents(5, WAIT);
            WsClient.assertNoFrameFor(Duration.ofMillis(300), aliceSocket, bobSocket, snoop);
            assertThat(aliceSocket.events()).allMatch(e -> e.getString("userId").equals(alice)).hasSize(5);
            assertThat(bobSocket.events()).allMatch(e -> e.getString("userId").equals(bob)).hasSize(5);
            assertThat(snoop.events()).isEmpty();
            JsonObject welcome = aliceSocket.ofType("welcome").get(0);
            assertThat(welcome.getString("userId")).isEqualTo(alice);
            assertThat(welcome.getInteger("partition")).isEqualTo(node.partitionOf(alice));
            assertThat(aliceSocket.frames.get(0).getString("type")).isEqualTo("welcome");

            String bobsPosition = bobSocket.ofType("event").get(0).getString("pos");
            try (WsClient resumeSnoop = WsClient.connect(vertx, WsClient.url(node, tokens.valid(alice),
                    "resume=" + bobsPosition.split(":")[0] + ":-1"))) {
                resumeSnoop.awaitEvents(5, WAIT);
                WsClient.assertNoFrameFor(Duration.ofMillis(300), resumeSnoop);
                assertThat(resumeSnoop.events()).allMatch(e -> e.getString("userId").equals(alice)).hasSize(5);
            }
        }
    }

    @Test
    void shouldCloseWith4401ForEveryKindOfBadToken() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<String> bad = List.of("", "not-a-token", tokens.expired("u1"), Tokens.unsigned("u1"),
                tokens.wrongKey("u1"), tokens.withoutSubject());
        for (String token : bad) {
            try (WsClient client = WsClient.connect(vertx, WsClient.url(node, token, null))) {
                assertThat(client.awaitClose(WAIT)).as("token '%s'", token).isEqualTo((short) 4401);
                assertThat(client.frames).isEmpty();
            }
        }
        try (WsClient noToken = WsClient.connect(vertx, "ws://127.0.0.1:" + node.port() + "/ws")) {
            assertThat(noToken.awaitClose(WAIT)).isEqualTo((short) 4401);
        }
        HttpResponse<String> route = get(node, "/route", tokens.expired("u1"));
        assertThat(route.statusCode()).isEqualTo(401);
    }

    @Test
    void shouldRefuseHandshakeFromOriginNotOnTheAllowList() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_ALLOWED_ORIGINS", "https://app.example.com"));
        String url = WsClient.url(node, tokens.valid("u1"), null);

        assertThatThrownBy(() -> WsClient.connect(vertx, url, "https://evil.example.net"))
                .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(403));
        try (WsClient allowed = WsClient.connect(vertx, url, "https://app.example.com")) {
            allowed.awaitFrame("welcome", WAIT);
        }
    }

    @Test
    void shouldNameWhereAFreshStreamStartsSoAReconnectBeforeTheFirstEventMissesNothing() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<AgentEvent> run = FanoutFixture.run("gina", "run-g");
        String position;
        try (WsClient first = WsClient.connect(vertx, WsClient.url(node, tokens.valid("gina"), null))) {
            first.awaitFrame("welcome", WAIT);
            position = first.ofType("welcome").get(0).getString("pos");
            assertThat(position).startsWith(node.partitionOf("gina") + ":");
        }
        // the run is published while the client is away, before it has seen any event
        fixture.writeAll(run);
        try (WsClient again = WsClient.connect(vertx, WsClient.url(node, tokens.valid("gina"), "resume=" + position))) {
            again.awaitEvents(5, WAIT);
            WsClient.assertNoFrameFor(Duration.ofMillis(300), again);
            assertThat(seqs(again)).containsExactly(0L, 1L, 2L, 3L, 4L);
        }
    }

    @Test
    void shouldResumeFromMemoryWithTheRestOfTheRunOnceAndInOrder() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        List<AgentEvent> run = FanoutFixture.run("carol", "run-c");
        String position;
        try (WsClient first = WsClient.connect(vertx, WsClient.url(node, tokens.valid("carol"), null))) {
            first.awaitFrame("welcome", WAIT);
            fixture.writeAll(run.subList(0, 2));
            first.awaitEvents(2, WAIT);
            position = first.lastPosition();
        }
        fixture.writeAll(run.subList(2, 5));

        try (WsClient again = WsClient.connect(vertx, WsClient.url(node, tokens.valid("carol"), "resume=" + position))) {
            again.awaitEvents(3, WAIT);
            WsClient.assertNoFrameFor(Duration.ofMillis(300), again);
            assertThat(seqs(again)).containsExactly(2L, 3L, 4L);
        }
        assertThat(scrape(node)).contains("fanout_resumes_total{source=\"memory\"} 1.0");
    }

    @Test
    void shouldServeFromKafkaAPositionOlderThanTheMemoryBuffer() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_BUFFER_EVENTS", "3", "FANOUT_PRELOAD_EVENTS", "0"));
        String user = "dora";
        try (WsClient first = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user), null))) {
            first.awaitFrame("welcome", WAIT);
            fixture.write(FanoutFixture.event(user, "run-d", 0, "agent_started").build());
            first.awaitEvents(1, WAIT);
            String position = first.lastPosition();
            for (int seq = 1; seq <= 20; seq++) {
                fixture.write(FanoutFixture.thinking(user, "run-d", seq, "thought " + seq));
                fixture.write(FanoutFixture.thinking("someone-else", "run-e", seq, "not for dora"));
            }
            first.awaitEvents(21, WAIT);

            try (WsClient late = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user), "resume=" + position))) {
                late.awaitEvents(20, WAIT);
                WsClient.assertNoFrameFor(Duration.ofMillis(300), late);
                assertThat(seqs(late)).containsExactlyElementsOf(
                        java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
            }
        }
        assertThat(scrape(node)).contains("fanout_resumes_total{source=\"kafka\"} 1.0");
    }

    @Test
    void shouldSendResetForResumePositionOutsideTheUsersPartition() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        int other = (node.partitionOf("erin") + 1) % FanoutFixture.PARTITIONS;
        try (WsClient client = WsClient.connect(vertx, WsClient.url(node, tokens.valid("erin"),
                "resume=" + other + ":0"))) {
            client.awaitFrame("reset", WAIT);
            assertThat(client.ofType("reset").get(0).getString("reason"))
                    .contains("is not in partition " + node.partitionOf("erin"));
            fixture.writeAll(FanoutFixture.run("erin", "run-erin"));
            client.awaitEvents(5, WAIT);
        }
        try (WsClient garbage = WsClient.connect(vertx, WsClient.url(node, tokens.valid("erin"), "resume=zzz"))) {
            garbage.awaitFrame("reset", WAIT);
            assertThat(garbage.ofType("reset").get(0).getString("reason")).contains("'zzz' is not <partition>:<offset>");
        }
    }

    @Test
    void shouldCloseSlowClientWith4008WhileAnotherClientKeepsReceiving() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_QUEUE_FRAMES", "50"));
        try (WsClient slow = WsClient.connect(vertx, WsClient.url(node, tokens.valid("frank"), null));
             WsClient fast = WsClient.connect(vertx, WsClient.url(node, tokens.valid("frank"), null))) {
            slow.awaitFrame("welcome", WAIT);
            fast.awaitFrame("welcome", WAIT);
            slow.socket.pause();
            String big = "x".repeat(20_000);
            fixture.write(FanoutFixture.event("frank", "run-f", 0, "agent_started").build());
            for (int seq = 1; seq <= 400; seq++) {
                fixture.write(FanoutFixture.thinking("frank", "run-f", seq, big));
            }

            fast.awaitEvents(401, Duration.ofSeconds(60));
            slow.socket.resume();
            assertThat(slow.awaitClose(WAIT)).isEqualTo((short) 4008);
            assertThat(seqs(fast)).doesNotHaveDuplicates().isSorted();
        }
        assertThat(scrape(node)).contains("fanout_frames_dropped_total{reason=\"slow_client\"}");
    }

    @Test
    void shouldCloseClientsThatSendBinaryOversizedOrTooManyMessages() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_MAX_CLIENT_MESSAGES_PER_SECOND", "5",
                "FANOUT_MAX_CLIENT_FRAME_BYTES", "1024"));
        try (WsClient binary = WsClient.connect(vertx, WsClient.url(node, tokens.valid("gus"), null))) {
            binary.socket.writeBinaryMessage(io.vertx.core.buffer.Buffer.buffer(new byte[] {1, 2, 3}));
            assertThat(binary.awaitClose(WAIT)).isEqualTo((short) 1003);
        }
        try (WsClient chatty = WsClient.connect(vertx, WsClient.url(node, tokens.valid("gus"), null))) {
            for (int i = 0; i < 20; i++) {
                chatty.socket.writeTextMessage("{\"type\":\"ping\"}");
            }
            assertThat(chatty.awaitClose(WAIT)).isEqualTo((short) 1008);
        }
        try (WsClient big = WsClient.connect(vertx, WsClient.url(node, tokens.valid("gus"), null))) {
            big.socket.writeTextMessage("y".repeat(5000));
            assertThat(big.awaitClose(WAIT)).isEqualTo((short) 1009);
        }
    }

    @Test
    void shouldRefuseConnectionsBeyondThePerUserLimit() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_MAX_CONNECTIONS_PER_USER", "2"));
        try (WsClient one = WsClient.connect(vertx, WsClient.url(node, tokens.valid("hana"), null));
             WsClient two = WsClient.connect(vertx, WsClient.url(node, tokens.valid("hana"), null))) {
            one.awaitFrame("welcome", WAIT);
            two.awaitFrame("welcome", WAIT);
            try (WsClient three = WsClient.connect(vertx, WsClient.url(node, tokens.valid("hana"), null))) {
                assertThat(three.awaitClose(WAIT)).isEqualTo((short) 4429);
            }
            try (WsClient otherUser = WsClient.connect(vertx, WsClient.url(node, tokens.valid("ivan"), null))) {
                otherUser.awaitFrame("welcome", WAIT);
            }
        }
    }

    @Test
    void shouldStreamOverServerSentEventsAndResumeFromLastEventId() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());
        SseClient first = SseClient.open(node, tokens.valid("judy"), null);
        first.awaitFrames(1, WAIT);
        List<AgentEvent> run = FanoutFixture.run("judy", "run-j");
        fixture.writeAll(run.subList(0, 2));
        first.awaitFrames(3, WAIT);
        String lastId = first.lastId();
        first.close();
        fixture.writeAll(run.subList(2, 5));

        SseClient second = SseClient.open(node, tokens.valid("judy"), lastId);
        second.awaitFrames(4, WAIT);
        second.assertNoFrameFor(Duration.ofMillis(300));
        second.close();
        assertThat(second.frames().get(0).getString("type")).isEqualTo("welcome");
        assertThat(second.frames().subList(1, second.frames().size()))
                .extracting(f -> f.getJsonObject("event").getLong("seq")).containsExactly(2L, 3L, 4L);
        assertThat(second.ids()).allMatch(id -> id.startsWith(node.partitionOf("judy") + ":"));
    }

    @Test
    void shouldAnswerRouteHealthAndMetrics() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of());

        HttpResponse<String> route = get(node, "/route", tokens.valid("kim"));
        assertThat(route.statusCode()).isEqualTo(200);
        JsonObject body = new JsonObject(route.body());
        assertThat(body.getString("url")).isEqualTo(node.webSocketUrl());
        assertThat(body.getInteger("partition")).isEqualTo(node.partitionOf("kim"));
        assertThat(get(node, "/health", null).statusCode()).isEqualTo(200);
        assertThat(get(node, "/agent-events-client.js", null).body()).contains("export class AgentEventsClient");
        assertThat(get(node, "/dev/token?user=kim", null).statusCode()).isEqualTo(404);
        try (WsClient client = WsClient.connect(vertx, WsClient.url(node, tokens.valid("kim"), null))) {
            client.awaitFrame("welcome", WAIT);
            fixture.writeAll(FanoutFixture.run("kim", "run-k"));
            client.awaitEvents(5, WAIT);
            assertThat(scrape(node)).contains("fanout_connections{transport=\"websocket\"} 1.0")
                    .contains("fanout_frames_delivered_total 5.0")
                    .contains("fanout_delivery_latency_seconds_count 5");
        }
    }

    static HttpResponse<String> get(FanoutNode node, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.httpUrl() + path));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String scrape(FanoutNode node) throws Exception {
        return get(node, "/metrics", null).body();
    }
}
