package dev.agentevents.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which stalls the fault audit blames on a registry outage. */
class FaultRunTest {

    private static FaultRun.Fault registryOutage(long routersBehindMs) {
        return new FaultRun.Fault("registry", "registry down 30 s", 812_000, 844_000, routersBehindMs);
    }

    @Test
    void shouldBlameALongStallOnTheRegistryWhenEverythingWasHealthyBefore() {
        assertThat(FaultRun.registryStoppedDeliveries(registryOutage(1_200), 45.7, true, 30)).isTrue();
        assertThat(FaultRun.registryStoppedDeliveries(registryOutage(-1), 15, true, 30)).isTrue();
    }

    @Test
    void shouldNotBlameTheRegistryForAStallThatAnEarlierFaultLeftBehind() {
        // the fifth long run: deliveries had resumed in part, but the routers were still minutes behind
        assertThat(FaultRun.registryStoppedDeliveries(registryOutage(250_000), 45.7, true, 30)).isFalse();
        assertThat(FaultRun.registryStoppedDeliveries(registryOutage(1_200), 45.7, false, 30)).isFalse();
    }

    @Test
    void shouldNotBlameTheRegistryForAShortStallOrAnotherKindOfFault() {
        assertThat(FaultRun.registryStoppedDeliveries(registryOutage(1_200), 14.9, true, 30)).isFalse();
        assertThat(FaultRun.registryStoppedDeliveries(new FaultRun.Fault("router", "kill -9 router-1", 0, 15_000,
                1_200), 45.7, true, 30)).isFalse();
    }
}
