package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/** {@code /health}: 200 only while running, so a rolling deploy never stops the next router mid-rebalance. */
class RouterHealthTest {

    @Test
    void shouldBeReadyOnlyWhileRunning() {
        OpsServer.Health running = RouterHealth.of(KafkaStreams.State.RUNNING, 6, 400);

        assertThat(running.ready()).isTrue();
        assertThat(running.json()).isEqualTo(
                "{\"status\":\"UP\",\"streams\":\"RUNNING\",\"activeTasks\":6,\"inputBehindSeconds\":0.4}");
    }

    @Test
    void shouldAnswerDownWhileRebalancingEvenWithTasksStillProcessing() {
        OpsServer.Health rebalancing = RouterHealth.of(KafkaStreams.State.REBALANCING, 6, 400);

        assertThat(rebalancing.ready()).isFalse();
        assertThat(rebalancing.json()).startsWith("{\"status\":\"DOWN\",\"streams\":\"REBALANCING\",");
    }

    @Test
    void shouldAnswerDownBeforeStartingAndAfterStoppingWithNoLagYet() {
        for (KafkaStreams.State state : new KafkaStreams.State[] {KafkaStreams.State.CREATED,
                KafkaStreams.State.PENDING_SHUTDOWN, KafkaStreams.State.NOT_RUNNING, KafkaStreams.State.ERROR}) {
            OpsServer.Health health = RouterHealth.of(state, 0, -1);
            assertThat(health.ready()).as(state.name()).isFalse();
            assertThat(health.json()).as(state.name()).isEqualTo("{\"status\":\"DOWN\",\"streams\":\"" + state
                    + "\",\"activeTasks\":0,\"inputBehindSeconds\":null}");
        }
    }
}
