package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

    @Test
    void shouldServeUsersOfPartitionsTakenForAJoiningNodeUntilItHasThemThenMoveThemStraightThere() throws Exception {
        FanoutNode a = fixture.startSoleNode(Map.of());
        Map<Integer, String> userOfPartition = new TreeMap<>();
        for (int i = 0; userOfPartition.size() < FanoutFixture.PARTITIONS; i++) {
            userOfPartition.putIfAbsent(a.partitionOf("joiner-" + i), "joiner-" + i);
        }
        Map<String, WsClient> onA = new HashMap<>();
        Map<String, List<Long>> written = new HashMap<>();
        try {
            for (String user : userOfPartition.values()) {
                WsClient client = WsClient.connect(vertx, WsClient.url(a, tokens.valid(user), null));
                onA.put(user, client);
                client.awaitFrame("welcome", WAIT);
                fixture.write(FanoutFixture.event(user, "run-j", 0, "agent_started").build());
                written.put(user, new ArrayList<>(List.of(0L)));
            }

            CompletableFuture<FanoutNode> joining = CompletableFuture.supplyAsync(() -> {
                try {
                    return fixture.startNode("node-b", Map.of());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!handedOver(a, joining, userOfPartition, onA) && System.nanoTime() < deadline) {
                for (String user : userOfPartition.values()) {
                    long seq = written.get(user).size();
                    fixture.write(FanoutFixture.thinking(user, "run-j", seq, "step " + seq));
                    written.get(user).add(seq);
                }
                Thread.sleep(20);
            }
            FanoutNode b = joining.get(30, TimeUnit.SECONDS);
            assertThat(b.ownedPartitions()).as("the joiner took partitions").isNotEmpty();

            for (String user : userOfPartition.values()) {
                long seq = written.get(user).size();
                fixture.write(FanoutFixture.thinking(user, "run-j", seq, "after " + seq));
                written.get(user).add(seq);
            }
            for (Map.Entry<Integer, String> entry : userOfPartition.entrySet()) {
                String user = entry.getValue();
                WsClient first = onA.get(user);
                List<Long> shown = new ArrayList<>();
                if (!b.ownedPartitions().contains(entry.getKey())) {
                    first.awaitEvents(written.get(user).size(), WAIT);
                    assertThat(first.closeCode).as("a user whose partition stayed is not moved").isNotDone();
                    first.events().forEach(e -> shown.add(e.getLong("seq")));
                    assertThat(shown).containsExactlyElementsOf(written.get(user));
                    continue;
                }
                assertThat(first.awaitClose(WAIT)).isEqualTo((short) 4009);
                assertThat(first.ofType("moved").get(0).getString("url")).as("moved names the joiner")
                        .isEqualTo(b.webSocketUrl());
                try (WsClient onB = WsClient.connect(vertx, b.webSocketUrl() + "?access_token="
                        + tokens.valid(user) + "&resume=" + first.lastPosition())) {
                    onB.awaitEvents(written.get(user).size() - first.events().size(), WAIT);
                    WsClient.assertNoFrameFor(Duration.ofMillis(300), onB);
                    first.events().forEach(e -> shown.add(e.getLong("seq")));
                    onB.events().forEach(e -> shown.add(e.getLong("seq")));
                }
                assertThat(shown).as("every event of %s once, in order, across the move", user)
                        .containsExactlyElementsOf(written.get(user));
            }
        } finally {
            onA.values().forEach(WsClient::close);
        }
    }

    /** Whether the joiner has its share and every user of that share has been moved off {@code a}. */
    private static boolean handedOver(FanoutNode a, CompletableFuture<FanoutNode> joining,
                                      Map<Integer, String> userOfPartition, Map<String, WsClient> onA) {
        FanoutNode b = joining.getNow(null);
        if (b == null || b.ownedPartitions().isEmpty()) {
            return false;
        }
        for (int partition : b.ownedPartitions()) {
            WsClient client = onA.get(userOfPartition.get(partition));
            if (a.ownedPartitions().contains(partition) || !client.closeCode.isDone()) {
                return false;
            }
        }
        return a.ownedPartitions().size() + b.ownedPartitions().size() == FanoutFixture.PARTITIONS;
    }
}
