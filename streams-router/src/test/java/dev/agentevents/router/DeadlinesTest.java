package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

class DeadlinesTest {

    private static Bytes run(String id) {
        return RunState.runKey("user", id);
    }

    @Test
    void shouldHandOutDueRunsEarliestFirstAndOnlyOnce() {
        Deadlines deadlines = new Deadlines();
        deadlines.set(run("c"), 300);
        deadlines.set(run("a"), 100);
        deadlines.set(run("b"), 200);
        deadlines.set(run("d"), 200);

        assertThat(deadlines.due(99, Integer.MAX_VALUE)).isEmpty();
        assertThat(deadlines.due(200, Integer.MAX_VALUE)).containsExactly(run("a"), run("b"), run("d"));
        assertThat(deadlines.due(250, Integer.MAX_VALUE)).isEmpty();
        assertThat(deadlines.size()).isEqualTo(1);
    }

    @Test
    void shouldKeepOneDeadlinePerRunTheEarliestSet() {
        Deadlines deadlines = new Deadlines();
        deadlines.set(run("a"), 100);
        deadlines.set(run("a"), 500);
        deadlines.set(run("b"), 100);
        deadlines.set(run("b"), 50);

        assertThat(deadlines.size()).isEqualTo(2);
        assertThat(deadlines.due(49, Integer.MAX_VALUE)).isEmpty();
        assertThat(deadlines.due(50, Integer.MAX_VALUE)).containsExactly(run("b"));
        assertThat(deadlines.due(100, Integer.MAX_VALUE)).containsExactly(run("a"));
        assertThat(deadlines.due(500, Integer.MAX_VALUE)).isEmpty();

        deadlines.set(run("a"), 500);
        assertThat(deadlines.due(499, Integer.MAX_VALUE)).as("taken by the sweep, a run's deadline is set afresh")
                .isEmpty();
        assertThat(deadlines.due(500, Integer.MAX_VALUE)).containsExactly(run("a"));
        deadlines.set(run("e"), 1);
        deadlines.clear();
        assertThat(deadlines.due(Long.MAX_VALUE, Integer.MAX_VALUE)).isEmpty();
    }
}
