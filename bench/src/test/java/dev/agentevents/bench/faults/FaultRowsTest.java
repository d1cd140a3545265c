package dev.agentevents.bench.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's rows: one per fault over its window, and one per step of a fault made of several. */
class FaultRowsTest {

    @Test
    void shouldGiveEachStepOfARollingRestartItsOwnRowUntilTheNextStep() {
        FaultAudit.Fault rolling = new FaultAudit.Fault("rolling", "rolling restart", 10_000, 40_000, 0,
                List.of(new FaultAudit.Step("restarting router-1", 10_000),
                        new FaultAudit.Step("restarting fanout-1", 25_000)));
        FaultAudit.Fault router = new FaultAudit.Fault("router", "kill -9 router-1", 50_000, 54_000, 0);
        // one user: an event 0.5 s late in the router's step, one 4 s late in the fanout node's, one 1 s late
        // after the next fault
        List<List<FaultAudit.Delivery>> deliveries = List.of(List.of(new FaultAudit.Delivery(12_000, 500),
                new FaultAudit.Delivery(30_000, 4_000), new FaultAudit.Delivery(52_000, 1_000)));

        List<FaultReport.Row> rows = FaultRun.faultRows(List.of(rolling, router), new long[700], deliveries, 70_000);

        assertThat(rows).extracting(row -> row.fault().what()).containsExactly("rolling restart",
                "… restarting router-1", "… restarting fanout-1", "kill -9 router-1");
        assertThat(rows).extracting(row -> row.delays().maxSeconds()).containsExactly(4.0, 0.5, 4.0, 1.0);
        assertThat(rows.get(2).fault().kind()).isEqualTo(FaultAudit.STEP);
        assertThat(rows.get(2).fault().steps()).isEmpty();
    }
}
