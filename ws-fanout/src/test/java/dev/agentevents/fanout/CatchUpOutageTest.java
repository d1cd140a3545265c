package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.embedded.EmbeddedStack;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A resume that must be read back from Kafka while the broker is unreachable: the node must not tell the client to
 * skip ahead (a reset would lose every event in between); it closes with 4008 and the same position works once the
 * broker is back. Found by the long fault run, where catch-ups during an outage answered with a reset.
 */
class CatchUpOutageTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static Vertx vertx;
    private static Tokens tokens;
    private static EmbeddedStack stack;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        tokens = new Tokens(vertx);
        stack = EmbeddedStack.start(EmbeddedStack.Options.defaults());
    }

    @AfterAll
    static void stop() {
        vertx.close();
        stack.close();
    }

    /**
     * One resume as a client tries it: the event seqs it was sent, none if the node refused or moved it (it may, until
     * it rejoins its group). What arrived is then checked: nothing more for a while, and no reset.
     */
    private static List<Long> resumeOnce(FanoutNode node, String user, String position) throws Exception {
        WsClient after;
        try {
            after = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user), "resume=" + position));
        } catch (Exception refused) {
            return List.of();
        }
        try (after) {
            try {
                after.awaitEvents(20, Duration.ofSeconds(5));
            } catch (ConditionTimeoutException notServed) {
                return List.of();
            }
            WsClient.assertNoFrameFor(Duration.ofMillis(300), after);
            assertThat(after.ofType("reset")).isEmpty();
            return after.events().stream().map(e -> e.getLong("seq")).toList();
        }
    }

    @Test
    void shouldCloseWith4008AndNoResetWhenKafkaCannotBeReadBackThenServeTheSamePositionLater() throws Exception {
        try (FanoutFixture fixture = new FanoutFixture(stack)) {
            FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_BUFFER_EVENTS", "3", "FANOUT_PRELOAD_EVENTS", "0",
                    "KAFKA_DEFAULT_API_TIMEOUT_MS", "2000", "KAFKA_REQUEST_TIMEOUT_MS", "1500"));
            String user = "erin";
            String position;
            try (WsClient first = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user), null))) {
                first.awaitFrame("welcome", WAIT);
                fixture.write(FanoutFixture.event(user, "run-o", 0, "agent_started").build());
                first.awaitEvents(1, WAIT);
                position = first.lastPosition();
                for (int seq = 1; seq <= 20; seq++) {
                    fixture.write(FanoutFixture.thinking(user, "run-o", seq, "thought " + seq));
                }
                first.awaitEvents(21, WAIT);
            }

            int broker = stack.kafka().nodeIds().get(0);
            stack.kafka().stop(broker);
            try (WsClient during = WsClient.connect(vertx, WsClient.url(node, tokens.valid(user),
                    "resume=" + position))) {
                assertThat(during.awaitClose(WAIT)).isEqualTo((short) 4008);
                assertThat(during.ofType("reset")).isEmpty();
                assertThat(during.events()).isEmpty();
            } finally {
                stack.kafka().start(broker);
            }

            // the node rejoins its group; until then a handshake may be refused or moved, so try as a client would
            List<Long> seqs = Awaitility.await("the same position served after the outage").atMost(WAIT)
                    .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(500))
                    .until(() -> resumeOnce(node, user, position), served -> served.size() >= 20);
            assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
            assertThat(FanoutNodeTest.scrape(node)).contains("fanout_resumes_total{source=\"failed\"} 1.0");
        }
    }
}
