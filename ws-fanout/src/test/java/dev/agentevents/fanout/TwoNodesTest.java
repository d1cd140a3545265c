package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private static void awaitSplit(FanoutNode a, FanoutNode b) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Set<Integer> all = new HashSet<>(a.ownedPartitions());
            all.addAll(b.ownedPartitions());
            if (!a.ownedPartitions().isEmpty() && !b.ownedPartitions().isEmpty()
                    && all.size() == FanoutFixture.PARTITIONS
                    && a.ownedPartitions().size() + b.ownedPartitions().size() == FanoutFixture.PARTITIONS) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("partitions did not split: " + a.ownedPartitions() + " / " + b.ownedPartitions());
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
        awaitSplit(a, b);
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
        awaitSplit(a, b);
        String user = userOwnedBy(b);
        int total = 150;
        try (ResumingClient client = new ResumingClient(vertx, List.of(a.httpUrl(), b.httpUrl()),
                tokens.valid(user))) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (client.connections.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300);
            fixture.write(FanoutFixture.event(user, "run-long", 0, "agent_started").build());
            for (int seq = 1; seq < total; seq++) {
                fixture.write(FanoutFixture.thinking(user, "run-long", seq, "step " + seq));
                if (seq == total / 3) {
                    fixture.stop(b);
                }
                Thread.sleep(10);
            }

            assertThat(client.await(total, Duration.ofSeconds(60))).isTrue();
            Thread.sleep(500);
            assertThat(client.events).extracting(e -> e.getLong("seq"))
                    .containsExactlyElementsOf(LongStream.range(0, total).boxed().toList());
            assertThat(client.connections.get()).isGreaterThanOrEqualTo(2);
            assertThat(a.ownedPartitions()).hasSize(FanoutFixture.PARTITIONS);
        }
    }
}
