package dev.agentevents.config;

import dev.agentevents.schemas.Topics;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Typed reading of environment variables for the applications' config records. Every bad value is an
 * {@link IllegalArgumentException} that names the variable, the value and what was expected. It remembers which
 * names were asked for, so tests can hold the README's reference tables and docker-compose.yml to the variables
 * the config records really read.
 */
public final class Environment {

    private final Map<String, String> variables;
    private final Set<String> requested = new LinkedHashSet<>();

    private Environment(Map<String, String> variables) {
        this.variables = Objects.requireNonNull(variables, "variables");
    }

    public static Environment of(Map<String, String> variables) {
        return new Environment(variables);
    }

    public Map<String, String> variables() {
        return variables;
    }

    /** Every variable name read so far ({@code KAFKA_*} stands for the pass-through Kafka settings). */
    public synchronized Set<String> requested() {
        return new LinkedHashSet<>(requested);
    }

    /** Kafka client settings from every {@code KAFKA_*} variable (see {@link KafkaSettings}). */
    public KafkaSettings kafka() {
        synchronized (this) {
            requested.add("KAFKA_*");
        }
        return KafkaSettings.fromEnv(variables);
    }

    /** Topic names, with the prefix from {@value Topics#PREFIX_VARIABLE}. */
    public Topics topics() {
        return new Topics(text(Topics.PREFIX_VARIABLE, ""));
    }

    public String text(String name, String defaultValue) {
        synchronized (this) {
            requested.add(name);
        }
        String value = variables.get(name);
        return value == null || value.isBlank() ? defaultValue : value.trim();
    }

    public String required(String name) {
        String value = text(name, null);
        if (value == null) {
            throw new IllegalArgumentException(name + " must be set");
        }
        return value;
    }

    public int integer(String name, int defaultValue) {
        String value = text(name, null);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + value + "' is not a whole number", e);
        }
    }

    public long longValue(String name, long defaultValue) {
        String value = text(name, null);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + value + "' is not a whole number", e);
        }
    }

    /** A duration given in milliseconds. */
    public Duration millis(String name, Duration defaultValue) {
        long ms = longValue(name, defaultValue.toMillis());
        if (ms < 0) {
            throw new IllegalArgumentException(name + " '" + ms + "' must not be negative (milliseconds)");
        }
        return Duration.ofMillis(ms);
    }

    public boolean flag(String name, boolean defaultValue) {
        String value = text(name, null);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw new IllegalArgumentException(name + " '" + value + "' is not true or false");
        };
    }
}
