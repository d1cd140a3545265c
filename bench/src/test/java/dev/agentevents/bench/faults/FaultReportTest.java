package dev.agentevents.bench.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The fault report's table: what each row says, and what it leaves blank. */
class FaultReportTest {

    private static FaultReport.Row row(FaultAudit.Fault fault, double recoverySeconds) {
        return new FaultReport.Row(fault, new FaultAudit.Impact(0.4, recoverySeconds, 1_000),
                new FaultAudit.UserWaits(200, 3.4, 5.5, 6.8, 7.0, 36.0),
                new FaultAudit.UserWaits(200, 0.3, 1.2, 2.6, 3.1, 35.2));
    }

    @Test
    void shouldLeaveTheRecoveryOfTheNoFaultRowBlankAndGiveItForAFault() {
        FaultAudit.Fault none = new FaultAudit.Fault(FaultAudit.NO_FAULT, "no fault (the 20 s before the first)",
                10_000, 10_000, 0);
        FaultAudit.Fault router = new FaultAudit.Fault("router", "kill -9 router-1", 30_000, 34_000, 0);

        FaultReport.Result result = FaultReport.of(new FaultRun.Settings(200, 150, false, 30, 12, 30, 20, false,
                FaultRun.KINDS), 120,
                new FaultReport.Checks(10_000, 0, 900, 0, 0, 0, 0, 0, 0, 0, 3),
                List.of(row(none, 2.0), row(router, 4.5)));

        assertThat(result.markdown()).containsPattern("\\| no fault \\(the 20 s before the first\\) \\|[^\\n]*\\| — \\|")
                .containsPattern("\\| kill -9 router-1 \\|[^\\n]*\\| 4\\.5 s \\|")
                .as("the events' delays first, then the waits between deliveries")
                .contains("| 3.1 s | 0.3 / 1.2 / 2.6 s | 7.0 s | 3.4 / 5.5 / 6.8 s | 4.5 s |");
        assertThat(result.json().path("faults").get(0).path("recoverySeconds").isNull()).isTrue();
        assertThat(result.json().path("faults").get(1).path("recoverySeconds").asDouble()).isEqualTo(4.5);
        assertThat(result.json().path("faults").get(1).path("latestEventOfOneUserSeconds").asDouble()).isEqualTo(3.1);
        assertThat(result.json().path("faults").get(1).path("longestUserWaitSeconds").asDouble()).isEqualTo(7.0);
    }
}
