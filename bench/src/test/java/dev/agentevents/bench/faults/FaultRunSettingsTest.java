package dev.agentevents.bench.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which faults a run injects: bad names refused with the name, the choice kept in order. */
class FaultRunSettingsTest {

    private static FaultRun.Settings withFaults(List<String> kinds) {
        return new FaultRun.Settings(200, 150, false, 30, 12, 30, 20, false, kinds);
    }

    @Test
    void shouldRefuseAnUnknownFaultNamingItAndTheKnownOnes() {
        assertThatThrownBy(() -> withFaults(List.of("rolling", "rollin")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'rollin'")
                .hasMessageContaining("broker, router, fanout, rolling, registry, all-brokers");
    }

    @Test
    void shouldRefuseNoFaults() {
        assertThatThrownBy(() -> withFaults(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no faults to inject");
    }

    @Test
    void shouldKeepTheChosenFaultsInTheirOrder() {
        assertThat(withFaults(List.of("rolling", "router")).kinds()).containsExactly("rolling", "router");
    }
}
