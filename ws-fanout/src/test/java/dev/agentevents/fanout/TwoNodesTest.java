package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two fanout nodes in one group: partitions split between them, users follow their partition. */
class TwoNodesTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private Vertx vertx;
    private Tokens tokens;
    private FanoutFixture fixture;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        tokens = new Tokens(vertx);
        fixture = new FanoutFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
        vertx.close();
    }

    private static String userOwnedBy(FanoutNode node) {
        for (int i = 0; ; i++) {
            String user = "mover-" + i;
            if (node.ownedPartitions().contains(node.partitionOf(user))) {
                return user;
            }
        }
    }

    @Test
    void shouldSendUserOnWrongNodeToTheOwner() throws Exception {
        FanoutNode a = fixture.startNode("node-a", Map.of());
        FanoutNode b = fixture.startNode("node-b", Map.of());
        FanoutFixture.awaitSplit(a, b);
        String user = userOwnedBy(b);

        try (WsClient wrong = WsClient.connect(vertx, WsClient.url(a, tokens.valid(user), null))) {
            assertThat(wrong.awaitClose(WAIT)).isEqualTo((short) 4009);
            JsonObject moved = wrong.ofType("moved").get(0);
            assertThat(moved.getString("url")).isEqualTo(b.webSocketUrl());
        }
        JsonObject route = new JsonObject(FanoutNodeTest.get(a, "/route", tokens.valid(user)).body());
        assertThat(route.getString("url")).isEqualTo(b.webSocketUrl());
        assertThat(route.getInteger("partition")).isEqualTo(b.partitionOf(user));
    }

    @Test
    void shouldMoveUsersOfAStoppingNodeToTheOtherWithoutLosingAnEvent() throws Exception {
        FanoutNode a = fixture.startNode("node-a", Map.of());
        FanoutNode b = fixture.startNode("node-b", Map.of());
        FanoutFixture.awaitSplit(a, b);
        String user = userOwnedBy(b);
        int total = 150;
        try (ResumingClient client = new ResumingClient(vertx, List.of(a.httpUrl(), b.httpUrl()),
                tokens.valid(user))) {
            client.awaitWelcomed(WAIT);
            fixture.write(FanoutFixture.event(user, "run-long", 0, "agent_started").build());
            for (int seq = 1; seq < total; seq++) {
                fixture.write(FanoutFixture.thinking(user, "run-long", seq, "step " + seq));
                if (seq == total / 3) {
                    fixture.stop(b);
                }
                Thread.sleep(10); // pacing: the run spreads over about 1.5 s, so the node stops in the middle of it
            }

            client.awaitEvents(total, Duration.ofSeconds(60));
            client.assertNoEventFor(Duration.ofMillis(500));
            assertThat(client.events).extracting(e -> e.getLong("seq"))
                    .containsExactlyElementsOf(LongStream.range(0, total).boxed().toList());
            assertThat(client.connections.get()).isGreaterThanOrEqualTo(2);
            assertThat(a.ownedPartitions()).hasSize(FanoutFixture.PARTITIONS);
        }
    }

    @Test
    void shouldServeUsersOfAStoppingNodeUntilTheOtherHasTheirPartitionThenMoveThemStraightThere() throws Exception {
        FanoutNode a = fixture.startNode("node-a", Map.of());
        FanoutNode b = fixture.startNode("node-b", Map.of());
        FanoutFixture.awaitSplit(a, b);
        String user = userOwnedBy(b);
        List<Long> written = new ArrayList<>();
        try (WsClient onB = WsClient.connect(vertx, WsClient.url(b, tokens.valid(user), null))) {
            onB.awaitFrame("welcome", WAIT);
            fixture.write(FanoutFixture.event(user, "run-h", 0, "agent_started").build());
            written.add(0L);
            onB.awaitEvents(1, WAIT);

            long lastBeforeStop = written.get(written.size() - 1);
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> fixture.stop(b));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!onB.closeCode.isDone() && System.nanoTime() < deadline) {
                long seq = written.size();
                fixture.write(FanoutFixture.thinking(user, "run-h", seq, "step " + seq));
                written.add(seq);
                Thread.sleep(20);
            }
            assertThat(onB.awaitClose(WAIT)).isEqualTo((short) 4009);
            assertThat(onB.ofType("moved").get(0).getString("url")).as("moved names the new owner")
                    .isEqualTo(a.webSocketUrl());
            assertThat(onB.events()).as("events written after the node began to stop, served by it meanwhile")
                    .anyMatch(e -> e.getLong("seq") > lastBeforeStop + 3);
            stopping.get(30, TimeUnit.SECONDS);

            for (int i = 0; i < 5; i++) {
                long seq = written.size();
                fixture.write(FanoutFixture.thinking(user, "run-h", seq, "after " + seq));
                written.add(seq);
            }
            try (WsClient onA = WsClient.connect(vertx, onB.ofType("moved").get(0).getString("url")
                    + "?access_token=" + tokens.valid(user) + "&resume=" + onB.lastPosition())) {
                int stillToCome = written.size() - onB.events().size();
                onA.awaitEvents(stillToCome, WAIT);
                WsClient.assertNoFrameFor(Duration.ofMillis(500), onA);
                List<Long> shown = new ArrayList<>();
                onB.events().forEach(e -> shown.add(e.getLong("seq")));
                onA.events().forEach(e -> shown.add(e.getLong("seq")));
                assertThat(shown).as("every event once, in order, across the move").containsExactlyElementsOf(written);

                long stopAlone = System.nanoTime();
                fixture.stop(a);
                assertThat(onA.awaitClose(WAIT)).isEqualTo((short) 4009);
                assertThat(onA.ofType("moved").get(0).getString("url")).as("nobody left to name").isNull();
                assertThat(Duration.ofNanos(System.nanoTime() - stopAlone))
                        .as("a node alone in the group does not wait out the hand-over limit (12 s here)")
                        .isLessThan(Duration.ofSeconds(6));
            }
        }
    }
}
