package dev.agentevents.fanout;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.Topics;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Settings of a fanout node, built once from the environment. Shared: {@code KAFKA_*}, {@code SCHEMA_REGISTRY_URL},
 * {@code AGENT_EVENTS_TOPIC_PREFIX}. The node's own (defaults in brackets):
 * <ul>
 * <li>{@code FANOUT_HOST} [0.0.0.0], {@code FANOUT_PORT} [8080; 0 = any free port];
 * <li>{@code FANOUT_PUBLIC_URL} [ws://127.0.0.1:port/ws]: the WebSocket URL other nodes hand to this node's users;
 * <li>{@code FANOUT_NODE_ID} [random]: shown in {@code welcome} frames and metrics;
 * <li>{@code FANOUT_GROUP_ID} [agent-events-fanout]: the consumer group all nodes share;
 * <li>{@code FANOUT_JWT_HS256_SECRET}, {@code FANOUT_JWT_RS256_PUBLIC_KEY} (PEM), {@code FANOUT_JWT_JWKS_URL}: how tokens
 *     are verified (at least one); {@code FANOUT_JWT_ISSUER}, {@code FANOUT_JWT_AUDIENCE}: required claims, if set;
 * <li>{@code FANOUT_ALLOWED_ORIGINS} [*]: comma-separated origins browsers may connect from;
 * <li>{@code FANOUT_MAX_CONNECTIONS_PER_USER} [16]; {@code FANOUT_MAX_CLIENT_FRAME_BYTES} [4096]: largest message a
 *     client may send; {@code FANOUT_MAX_CLIENT_MESSAGES_PER_SECOND} [20];
 * <li>{@code FANOUT_QUEUE_FRAMES} [2000], {@code FANOUT_QUEUE_BYTES} [4194304]: what may wait for one slow connection
 *     before it is closed with 4008;
 * <li>{@code FANOUT_BUFFER_EVENTS} [20000], {@code FANOUT_BUFFER_BYTES} [33554432]: recent frames kept per owned
 *     partition to serve resumes from memory; {@code FANOUT_PRELOAD_EVENTS} [2000]: how many recent records a node
 *     reads into that buffer when it takes over a partition;
 * <li>{@code FANOUT_CATCHUP_MAX_RECORDS} [2000000]: how far back a resume may be served from Kafka;
 * <li>{@code FANOUT_PING_INTERVAL_MS} [15000]: pings (SSE: comments); a socket silent for two intervals is closed;
 * <li>{@code FANOUT_SESSION_TIMEOUT_MS} [10000]: how soon other nodes take over a crashed node's partitions;
 * <li>{@code FANOUT_DEMO} [false]: serve {@code /dev/token} and the demo page (the one-command launcher turns it on).
 * </ul>
 */
public record FanoutConfig(KafkaSettings kafka, String registryUrl, Topics topics, String host, int port,
                           String publicUrl, String nodeId, String groupId, String hs256Secret,
                           String rs256PublicKeyPem, String jwksUrl, String issuer, String audience,
                           List<String> allowedOrigins, int maxConnectionsPerUser, int maxClientFrameBytes,
                           int maxClientMessagesPerSecond, int queueFrames, long queueBytes, int bufferEvents,
                           long bufferBytes, int preloadEvents, long catchupMaxRecords, Duration pingInterval,
                           Duration sessionTimeout, boolean demo) {

    public FanoutConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(registryUrl, "SCHEMA_REGISTRY_URL must be set");
        if (blank(hs256Secret) && blank(rs256PublicKeyPem) && blank(jwksUrl)) {
            throw new IllegalArgumentException("set FANOUT_JWT_HS256_SECRET, FANOUT_JWT_RS256_PUBLIC_KEY or "
                    + "FANOUT_JWT_JWKS_URL: the node cannot verify tokens without one");
        }
        if (!blank(hs256Secret) && hs256Secret.length() < 32) {
            throw new IllegalArgumentException("FANOUT_JWT_HS256_SECRET has " + hs256Secret.length()
                    + " characters; use at least 32");
        }
        allowedOrigins = List.copyOf(allowedOrigins);
    }

    static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    public static FanoutConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static FanoutConfig from(Environment env) {
        int port = env.integer("FANOUT_PORT", 8080);
        return new FanoutConfig(
                env.kafka(),
                env.required("SCHEMA_REGISTRY_URL"),
                env.topics(),
                env.text("FANOUT_HOST", "0.0.0.0"),
                port,
                env.text("FANOUT_PUBLIC_URL", null),
                env.text("FANOUT_NODE_ID", "node-" + UUID.randomUUID().toString().substring(0, 8)),
                env.text("FANOUT_GROUP_ID", "agent-events-fanout"),
                env.text("FANOUT_JWT_HS256_SECRET", null),
                env.text("FANOUT_JWT_RS256_PUBLIC_KEY", null),
                env.text("FANOUT_JWT_JWKS_URL", null),
                env.text("FANOUT_JWT_ISSUER", null),
                env.text("FANOUT_JWT_AUDIENCE", null),
                Arrays.stream(env.text("FANOUT_ALLOWED_ORIGINS", "*").split(",")).map(String::trim)
                        .filter(s -> !s.isEmpty()).toList(),
                env.integer("FANOUT_MAX_CONNECTIONS_PER_USER", 16),
                env.integer("FANOUT_MAX_CLIENT_FRAME_BYTES", 4096),
                env.integer("FANOUT_MAX_CLIENT_MESSAGES_PER_SECOND", 20),
                env.integer("FANOUT_QUEUE_FRAMES", 2000),
                env.longValue("FANOUT_QUEUE_BYTES", 4L * 1024 * 1024),
                env.integer("FANOUT_BUFFER_EVENTS", 20_000),
                env.longValue("FANOUT_BUFFER_BYTES", 32L * 1024 * 1024),
                env.integer("FANOUT_PRELOAD_EVENTS", 2000),
                env.longValue("FANOUT_CATCHUP_MAX_RECORDS", 2_000_000),
                env.millis("FANOUT_PING_INTERVAL_MS", Duration.ofSeconds(15)),
                env.millis("FANOUT_SESSION_TIMEOUT_MS", Duration.ofSeconds(10)),
                env.flag("FANOUT_DEMO", false));
    }

    /** The WebSocket URL to advertise once the actual port is known. */
    String advertisedUrl(int actualPort) {
        return publicUrl != null ? publicUrl : "ws://127.0.0.1:" + actualPort + "/ws";
    }

    boolean originAllowed(String origin) {
        return origin == null || allowedOrigins.contains("*") || allowedOrigins.contains(origin);
    }

    @Override
    public String toString() {
        return "FanoutConfig{kafka=" + kafka + ", registry=" + registryUrl + ", topic=" + topics.ordered()
                + ", listen=" + host + ":" + port + ", publicUrl=" + publicUrl + ", nodeId=" + nodeId + ", groupId="
                + groupId + ", jwt=" + (blank(hs256Secret) ? "" : "HS256(****) ")
                + (blank(rs256PublicKeyPem) ? "" : "RS256 ") + (blank(jwksUrl) ? "" : "JWKS(" + jwksUrl + ") ")
                + "issuer=" + issuer + ", audience=" + audience + ", allowedOrigins=" + allowedOrigins
                + ", maxConnectionsPerUser=" + maxConnectionsPerUser + ", maxClientFrameBytes=" + maxClientFrameBytes
                + ", maxClientMessagesPerSecond=" + maxClientMessagesPerSecond + ", queueFrames=" + queueFrames
                + ", queueBytes=" + queueBytes + ", bufferEvents=" + bufferEvents + ", bufferBytes=" + bufferBytes
                + ", preloadEvents=" + preloadEvents + ", catchupMaxRecords=" + catchupMaxRecords
                + ", pingIntervalMs=" + pingInterval.toMillis() + ", sessionTimeoutMs=" + sessionTimeout.toMillis()
                + ", demo=" + demo + "}";
    }
}
