package dev.agentevents.config;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Kafka client settings taken from the environment, the same way in every application: each {@code KAFKA_*}
 * variable becomes the client property named by the rest of it, lower-cased, with {@code _} as {@code .}
 * ({@code KAFKA_BOOTSTRAP_SERVERS} → {@code bootstrap.servers}, {@code KAFKA_SECURITY_PROTOCOL} →
 * {@code security.protocol}, {@code KAFKA_SASL_JAAS_CONFIG} → {@code sasl.jaas.config}). Values that look like
 * secrets are masked by {@link #toString()}, so the settings can be logged at start.
 */
public record KafkaSettings(Map<String, String> properties) {

    public static final String BOOTSTRAP_VARIABLE = "KAFKA_BOOTSTRAP_SERVERS";
    private static final Pattern SECRET = Pattern.compile(".*(password|secret|jaas|credentials|token).*|.*\\.key|key");

    public KafkaSettings {
        properties = Map.copyOf(properties);
        String bootstrap = properties.get("bootstrap.servers");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException(BOOTSTRAP_VARIABLE + " must be set (host:port[,host:port...])");
        }
    }

    /** Settings from every {@code KAFKA_*} variable of {@code env}. */
    public static KafkaSettings fromEnv(Map<String, String> env) {
        Map<String, String> properties = new TreeMap<>();
        env.forEach((name, value) -> {
            if (name.startsWith("KAFKA_") && name.length() > "KAFKA_".length()) {
                properties.put(name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        return new KafkaSettings(properties);
    }

    /** Settings with only {@code bootstrap.servers}. */
    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(Map.of("bootstrap.servers", bootstrapServers));
    }

    public String bootstrapServers() {
        return properties.get("bootstrap.servers");
    }

    /** The properties, for a Kafka client's config map. */
    public Map<String, Object> asClientConfig() {
        return new TreeMap<>(properties);
    }

    /** {@code name=value, ...} with secret-looking values replaced by {@code ****}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("{");
        new TreeMap<>(properties).forEach((name, value) -> {
            if (text.length() > 1) {
                text.append(", ");
            }
            text.append(name).append('=').append(isSecret(name) ? "****" : value);
        });
        return text.append('}').toString();
    }

    /** Whether a setting named {@code name} holds a secret and must not be logged. */
    public static boolean isSecret(String name) {
        return SECRET.matcher(name.toLowerCase(Locale.ROOT).replace('_', '.')).matches();
    }
}
