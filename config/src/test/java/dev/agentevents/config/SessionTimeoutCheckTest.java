package dev.agentevents.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A session timeout outside the brokers' range is refused at start, naming the setting and the range. */
class SessionTimeoutCheckTest {

    @Test
    void shouldRefuseASessionTimeoutTheBrokersWouldRejectOnEveryJoin() {
        assertThatThrownBy(() -> SessionTimeoutCheck.check("ROUTER_SESSION_TIMEOUT_MS", Duration.ofSeconds(3), 6000,
                1_800_000)).isInstanceOf(IllegalArgumentException.class).hasMessage("ROUTER_SESSION_TIMEOUT_MS 3000 "
                + "is outside what the brokers allow (group.min.session.timeout.ms 6000, group.max.session.timeout.ms "
                + "1800000): set ROUTER_SESSION_TIMEOUT_MS within it, or lower group.min.session.timeout.ms on the "
                + "brokers");
        assertThatThrownBy(() -> SessionTimeoutCheck.check("FANOUT_SESSION_TIMEOUT_MS", Duration.ofMinutes(31), 6000,
                1_800_000)).hasMessageStartingWith("FANOUT_SESSION_TIMEOUT_MS 1860000 is outside");
    }

    @Test
    void shouldAcceptTheBoundsThemselves() {
        assertThatCode(() -> SessionTimeoutCheck.check("X", Duration.ofMillis(6000), 6000, 1_800_000))
                .doesNotThrowAnyException();
        assertThatCode(() -> SessionTimeoutCheck.check("X", Duration.ofMillis(1_800_000), 6000, 1_800_000))
                .doesNotThrowAnyException();
    }
}
