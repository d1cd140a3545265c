package dev.agentevents.config;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer group's session timeout must lie within the brokers' {@code group.min.session.timeout.ms} and
 * {@code group.max.session.timeout.ms}; outside it every join fails with {@code INVALID_SESSION_TIMEOUT} and the
 * application never receives a partition. Checked once at start, so the error names the setting to change.
 */
public final class SessionTimeoutCheck {

    private static final Logger LOG = LoggerFactory.getLogger(SessionTimeoutCheck.class);
    static final String MIN = "group.min.session.timeout.ms";
    static final String MAX = "group.max.session.timeout.ms";

    private SessionTimeoutCheck() {
    }

    /**
     * Throws {@link IllegalArgumentException} naming {@code setting} when {@code timeout} is outside the range a
     * broker allows; when the brokers cannot be asked (no permission, not reachable yet) it logs and lets the
     * group's own error speak later.
     */
    public static void requireAllowed(Admin admin, String setting, Duration timeout) {
        String minMs;
        String maxMs;
        try {
            Node node = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next();
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(node.id()));
            Config config = admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
            ConfigEntry min = config.get(MIN);
            ConfigEntry max = config.get(MAX);
            if (min == null || max == null || min.value() == null || max.value() == null) {
                return;
            }
            minMs = min.value();
            maxMs = max.value();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("cannot read the brokers' {} and {} to check {} ({}): not checked", MIN, MAX, setting,
                    e.toString());
            return;
        }
        check(setting, timeout, Long.parseLong(minMs), Long.parseLong(maxMs));
    }

    static void check(String setting, Duration timeout, long minMs, long maxMs) {
        long ms = timeout.toMillis();
        if (ms < minMs || ms > maxMs) {
            throw new IllegalArgumentException(setting + " " + ms + " is outside what the brokers allow ("
                    + MIN + " " + minMs + ", " + MAX + " " + maxMs + "): set " + setting + " within it, or lower "
                    + MIN + " on the brokers");
        }
    }
}
