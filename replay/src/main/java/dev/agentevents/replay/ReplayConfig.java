package dev.agentevents.replay;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.Topics;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the replay tool from the environment (flags override them): {@code KAFKA_*},
 * {@code SCHEMA_REGISTRY_URL}, {@code AGENT_EVENTS_TOPIC_PREFIX}, and {@code REPLAY_POLL_TIMEOUT_MS} (default 5000:
 * how long a read waits for records it knows exist before it reports them missing).
 */
public record ReplayConfig(KafkaSettings kafka, String registryUrl, Topics topics, Duration pollTimeout) {

    public static ReplayConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static ReplayConfig from(Environment env) {
        return new ReplayConfig(env.kafka(), env.text("SCHEMA_REGISTRY_URL", null), env.topics(),
                env.millis("REPLAY_POLL_TIMEOUT_MS", Duration.ofSeconds(5)));
    }
}
