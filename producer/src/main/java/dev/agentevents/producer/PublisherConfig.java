package dev.agentevents.producer;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Settings of an {@link EventPublisher}. From the environment: {@code KAFKA_*} (see {@link KafkaSettings}),
 * {@code SCHEMA_REGISTRY_URL}, {@code AGENT_EVENTS_TOPIC_PREFIX}, and
 * {@code PUBLISHER_MAX_PAYLOAD_BYTES} (default 262144: the largest payload text an event may carry; keep it at or
 * below the router's {@code ROUTER_MAX_EVENT_BYTES}), {@code PUBLISHER_BUFFER_MEMORY_BYTES} (default 33554432:
 * memory for events not yet sent), {@code PUBLISHER_MAX_BLOCK_MS} (default 10000: how long a publish waits for
 * buffer space before its future fails), {@code PUBLISHER_DELIVERY_TIMEOUT_MS} (default 120000: how long Kafka
 * retries before a future fails), {@code PUBLISHER_LINGER_MS} (default 5), {@code PUBLISHER_COMPRESSION}
 * (default lz4).
 */
public record PublisherConfig(KafkaSettings kafka, String registryUrl, Topics topics, int maxPayloadBytes,
                              long bufferMemoryBytes, long maxBlockMs, int deliveryTimeoutMs, int lingerMs,
                              String compression) {

    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

    public PublisherConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(registryUrl, "SCHEMA_REGISTRY_URL must be set");
        Objects.requireNonNull(topics, "topics");
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("PUBLISHER_MAX_PAYLOAD_BYTES " + maxPayloadBytes + " must be positive");
        }
    }

    /** Defaults, with the given broker and registry. */
    public static PublisherConfig of(String bootstrapServers, String registryUrl) {
        return fromEnv(Map.of(KafkaSettings.BOOTSTRAP_VARIABLE, bootstrapServers, "SCHEMA_REGISTRY_URL", registryUrl));
    }

    public static PublisherConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static PublisherConfig from(Environment env) {
        return new PublisherConfig(
                env.kafka(),
                env.required("SCHEMA_REGISTRY_URL"),
                env.topics(),
                env.integer("PUBLISHER_MAX_PAYLOAD_BYTES", DEFAULT_MAX_PAYLOAD_BYTES),
                env.longValue("PUBLISHER_BUFFER_MEMORY_BYTES", 32L * 1024 * 1024),
                env.longValue("PUBLISHER_MAX_BLOCK_MS", 10_000),
                env.integer("PUBLISHER_DELIVERY_TIMEOUT_MS", 120_000),
                env.integer("PUBLISHER_LINGER_MS", 5),
                env.text("PUBLISHER_COMPRESSION", "lz4"));
    }

    public PublisherConfig withMaxPayloadBytes(int bytes) {
        return new PublisherConfig(kafka, registryUrl, topics, bytes, bufferMemoryBytes, maxBlockMs,
                deliveryTimeoutMs, lingerMs, compression);
    }

    /** Producer configs: idempotent, acks=all, compressed, bounded buffer; {@code KAFKA_*} settings on top. */
    public Map<String, Object> producerConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        config.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, bufferMemoryBytes);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlockMs);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeoutMs);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(30_000, deliveryTimeoutMs - lingerMs));
        config.putAll(kafka.asClientConfig());
        return config;
    }

    /** Serializer configs for the registry. */
    public Map<String, Object> registryConfig() {
        return Map.of(SchemaRegistryClient.URL_CONFIG, registryUrl);
    }

    @Override
    public String toString() {
        return "PublisherConfig{kafka=" + kafka + ", registry=" + registryUrl + ", topic=" + topics.events()
                + ", maxPayloadBytes=" + maxPayloadBytes + ", bufferMemoryBytes=" + bufferMemoryBytes
                + ", maxBlockMs=" + maxBlockMs + ", deliveryTimeoutMs=" + deliveryTimeoutMs + ", lingerMs="
                + lingerMs + ", compression=" + compression + "}";
    }
}
