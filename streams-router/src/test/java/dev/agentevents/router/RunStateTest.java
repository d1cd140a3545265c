package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import org.junit.jupiter.api.Test;

class RunStateTest {

    @Test
    void shouldReadBackWhatItWroteAndWriteItsChangesAfterTheFixedPartWasEncodedOnce() {
        TestRun run = new TestRun("ümit", "run-1");
        RunState state = RunState.startedBy(AgentEvent.newBuilder(run.started()).setParentRunId("run-0").build());
        state.nextSeq = 3;
        state.lastEventAtMs = 1_000;
        state.openToolCalls.add("call-1");
        state.remember(run.thinking(2));
        byte[] first = state.encode();

        state.nextSeq = 4;
        state.openToolCalls.remove("call-1");
        state.rememberGap(5, 6);
        byte[] second = state.encode();
        RunState read = RunState.decode(second);

        assertThat(second).isNotEqualTo(first);
        assertThat(read.encode()).isEqualTo(second);
        assertThat((long) second.length).isEqualTo(read.encodedSize());
        assertThat(read.userId).isEqualTo("ümit");
        assertThat(read.parentRunId).isEqualTo("run-0");
        assertThat(read.nextSeq).isEqualTo(4);
        assertThat(read.openToolCalls).isEmpty();
        assertThat(read.inGap(5)).isTrue();
        assertThat(RunState.decode(first).openToolCalls).containsExactly("call-1");
    }
}
