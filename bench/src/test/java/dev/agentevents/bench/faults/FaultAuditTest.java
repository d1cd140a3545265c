package dev.agentevents.bench.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fault audit's arithmetic: stalls, recovery, users' waits, and which stalls it blames on a registry outage. */
class FaultAuditTest {

    private static FaultAudit.Fault registryOutage(long routersBehindMs) {
        return new FaultAudit.Fault("registry", "registry down 30 s", 812_000, 844_000, routersBehindMs);
    }

    /** 10 deliveries per 100 ms for {@code seconds}, except none in [{@code stallFromMs}, {@code stallToMs}). */
    private static long[] steadyWithStall(int seconds, long stallFromMs, long stallToMs) {
        long[] perBucket = new long[seconds * 10];
        for (int b = 0; b < perBucket.length; b++) {
            long at = b * 100L;
            perBucket[b] = at >= stallFromMs && at < stallToMs ? 0 : 10;
        }
        return perBucket;
    }

    @Test
    void shouldMeasureTheLongestStallAndTheRecoveryAfterTheFault() {
        long[] perBucket = steadyWithStall(60, 21_000, 24_500);

        FaultAudit.Impact impact = FaultAudit.impact(perBucket, 100, 20_000, 50_000);

        assertThat(impact.longestStallSeconds()).isEqualTo(3.5);
        assertThat(impact.deliveredBefore()).isEqualTo(1_000);
        // the rate over the last second fell below half at 21.5 s and was back at half by 25.0 s
        assertThat(impact.recoverySeconds()).isEqualTo(5.0);
    }

    @Test
    void shouldReportNoRecoveryWhenTheRateNeverFellAndNoneWhenItNeverCameBack() {
        assertThat(FaultAudit.impact(steadyWithStall(60, 0, 0), 100, 20_000, 50_000).recoverySeconds()).isZero();
        assertThat(FaultAudit.impact(steadyWithStall(60, 21_000, 60_000), 100, 20_000, 50_000).recoverySeconds())
                .isEqualTo(-1);
        assertThat(FaultAudit.impact(steadyWithStall(60, 0, 30_000), 100, 20_000, 50_000).deliveredBefore())
                .as("deliveries had already stopped").isZero();
    }

    @Test
    void shouldTakePercentilesOfEachUsersLongestWaitInTheWindow() {
        List<List<FaultAudit.Delivery>> times = new ArrayList<>();
        for (int user = 0; user < 100; user++) {
            // every user: a delivery each second, and one wait of (user + 1) * 100 ms inside the window
            List<FaultAudit.Delivery> own = new ArrayList<>();
            long t = 0;
            while (t < 40_000) {
                own.add(new FaultAudit.Delivery(t, 50));
                t += t == 20_000 ? 1_000 + (user + 1) * 100L : 1_000;
            }
            times.add(own);
        }
        times.add(at(1_000L)); // a user with a single delivery never waited

        FaultAudit.UserWaits waits = FaultAudit.userWaits(times, 15_000, 35_000);

        assertThat(waits.users()).isEqualTo(100);
        assertThat(waits.maxSeconds()).isEqualTo(11.0);
        assertThat(waits.p99Seconds()).isEqualTo(10.9);
        assertThat(waits.p95Seconds()).isEqualTo(10.5);
        assertThat(waits.p50Seconds()).isEqualTo(6.0);
    }

    @Test
    void shouldCountOnlyWaitsThatEndInsideTheWindow() {
        FaultAudit.UserWaits waits = FaultAudit.userWaits(List.of(at(0L, 9_000L, 10_000L, 30_000L)), 5_000, 20_000);

        assertThat(waits.maxSeconds()).as("0 → 9 s overlaps and ends inside; 10 → 30 s ends after").isEqualTo(9.0);
        assertThat(FaultAudit.userWaits(List.of(), 0, 1).users()).isZero();
    }

    @Test
    void shouldCountTheLatenessOfEventsNotTheAgentsOwnPauses() {
        // a user whose agent thinks 12 s between events, each shown 80 ms after it was made
        List<FaultAudit.Delivery> thinking = List.of(new FaultAudit.Delivery(10_000, 80),
                new FaultAudit.Delivery(22_000, 80), new FaultAudit.Delivery(34_000, 80));
        // a user whose events were held back by a fault: the one made at 20.5 s was shown at 27 s
        List<FaultAudit.Delivery> heldBack = List.of(new FaultAudit.Delivery(20_000, 60),
                new FaultAudit.Delivery(27_000, 6_500), new FaultAudit.Delivery(27_010, 5_900),
                new FaultAudit.Delivery(40_000, 70));

        FaultAudit.UserWaits delays = FaultAudit.eventDelays(List.of(thinking, heldBack), 15_000, 35_000);
        FaultAudit.UserWaits waits = FaultAudit.userWaits(List.of(thinking, heldBack), 15_000, 35_000);

        assertThat(delays.users()).isEqualTo(2);
        assertThat(delays.maxSeconds()).isEqualTo(6.5);
        assertThat(delays.longestEndedAtSeconds()).as("when the latest event was shown").isEqualTo(27.0);
        assertThat(delays.p50Seconds()).as("the thinking user's events were all on time").isEqualTo(0.08);
        assertThat(waits.maxSeconds()).as("between deliveries, the thinking user waited longer").isEqualTo(12.0);
        assertThat(waits.longestEndedAtSeconds()).isEqualTo(22.0);
        assertThat(FaultAudit.eventDelays(List.of(thinking), 40_000, 50_000).users())
                .as("no event shown in the window").isZero();
    }

    /** Deliveries at {@code times}, each shown 50 ms after it was made. */
    private static List<FaultAudit.Delivery> at(long... times) {
        List<FaultAudit.Delivery> deliveries = new ArrayList<>();
        for (long t : times) {
            deliveries.add(new FaultAudit.Delivery(t, 50));
        }
        return deliveries;
    }

    @Test
    void shouldBlameALongStallOnTheRegistryWhenEverythingWasHealthyBefore() {
        assertThat(FaultAudit.registryStoppedDeliveries(registryOutage(1_200), 45.7, true, 30)).isTrue();
        assertThat(FaultAudit.registryStoppedDeliveries(registryOutage(-1), 15, true, 30)).isTrue();
    }

    @Test
    void shouldNotBlameTheRegistryForAStallThatAnEarlierFaultLeftBehind() {
        // the fifth long run: deliveries had resumed in part, but the routers were still minutes behind
        assertThat(FaultAudit.registryStoppedDeliveries(registryOutage(250_000), 45.7, true, 30)).isFalse();
        assertThat(FaultAudit.registryStoppedDeliveries(registryOutage(1_200), 45.7, false, 30)).isFalse();
    }

    @Test
    void shouldNotBlameTheRegistryForAShortStallOrAnotherKindOfFault() {
        assertThat(FaultAudit.registryStoppedDeliveries(registryOutage(1_200), 14.9, true, 30)).isFalse();
        assertThat(FaultAudit.registryStoppedDeliveries(new FaultAudit.Fault("router", "kill -9 router-1", 0,
                15_000, 1_200), 45.7, true, 30)).isFalse();
    }
}
