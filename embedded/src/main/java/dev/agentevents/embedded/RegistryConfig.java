package dev.agentevents.embedded;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.CompatibilityLevel;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of the embedded schema registry. From the environment: {@code KAFKA_*} (see {@link KafkaSettings}),
 * {@code REGISTRY_HOST} (default 127.0.0.1), {@code REGISTRY_PORT} (default 8081; 0 = any free port),
 * {@code REGISTRY_TOPIC} (default {@code _schemas}), {@code REGISTRY_REPLICATION_FACTOR} (default 1),
 * {@code REGISTRY_COMPATIBILITY} (global default level, default BACKWARD as in Confluent's registry).
 */
public record RegistryConfig(KafkaSettings kafka, String host, int port, String topic, short replicationFactor,
                             CompatibilityLevel defaultCompatibility) {

    public static final int DEFAULT_PORT = 8081;
    public static final String DEFAULT_TOPIC = "_schemas";

    public RegistryConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(defaultCompatibility, "defaultCompatibility");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("REGISTRY_PORT " + port + " is not a TCP port");
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("REGISTRY_REPLICATION_FACTOR " + replicationFactor + " must be >= 1");
        }
    }

    /** A registry on loopback port {@code port} storing in {@code _schemas} of the cluster at {@code bootstrap}. */
    public static RegistryConfig of(String bootstrapServers, int port, short replicationFactor) {
        return new RegistryConfig(KafkaSettings.of(bootstrapServers), "127.0.0.1", port, DEFAULT_TOPIC,
                replicationFactor, CompatibilityLevel.BACKWARD);
    }

    public static RegistryConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static RegistryConfig from(Environment env) {
        return new RegistryConfig(
                env.kafka(),
                env.text("REGISTRY_HOST", "127.0.0.1"),
                env.integer("REGISTRY_PORT", DEFAULT_PORT),
                env.text("REGISTRY_TOPIC", DEFAULT_TOPIC),
                (short) env.integer("REGISTRY_REPLICATION_FACTOR", 1),
                CompatibilityLevel.parse(env.text("REGISTRY_COMPATIBILITY", "BACKWARD")));
    }
}
