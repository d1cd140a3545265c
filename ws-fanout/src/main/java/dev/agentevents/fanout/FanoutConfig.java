package dev.agentevents.fanout;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Settings of a fanout node, built once from the environment (docs/configuration.md has every variable). Shared:
 * {@code KAFKA_*}, {@code SCHEMA_REGISTRY_URL}, {@code AGENT_EVENTS_TOPIC_PREFIX}. The node's own: where it listens and
 * what it advertises, its group, how tokens are verified ({@link TokenSettings}), what a client may open and send
 * ({@link ClientLimits}), how resumes are read back from Kafka ({@link CatchUp}), the per-partition memory buffer, and
 * the demo switch, which only works on a loopback address unless {@code FANOUT_DEMO_ON_ANY_HOST} overrides it.
 */
public record FanoutConfig(KafkaSettings kafka, String registryUrl, Topics topics, String host, int port,
                           String publicUrl, String nodeId, String groupId, List<String> allowedNodeUrls,
                           TokenSettings tokens, ClientLimits clients, CatchUp catchUp, int bufferEvents,
                           long bufferBytes, int preloadEvents, Duration sessionTimeout, boolean demo,
                           boolean demoOnAnyHost, Duration demoTokenTtl, AgUi agUi) {

    /** The AG-UI streams: how long a run not started yet is waited for, how far back a run's start is looked for. */
    public record AgUi(Duration startTimeout, Duration lookback) {

        static AgUi from(Environment env) {
            return new AgUi(env.millis("FANOUT_AGUI_START_TIMEOUT_MS", Duration.ofSeconds(60)),
                    env.millis("FANOUT_AGUI_LOOKBACK_MS", Duration.ofHours(1)));
        }
    }

    /** How tokens and tickets are verified. */
    public record TokenSettings(String hs256Secret, String rs256PublicKeyPem, String jwksUrl, String issuer, String audience,
                         boolean requireExp, Duration jwksRefresh, Duration jwksMinRefresh, int maxUserIdBytes,
                         String ticketSecret, Duration ticketTtl, Duration expiryWarning) {

        public TokenSettings {
            if (blank(hs256Secret) && blank(rs256PublicKeyPem) && blank(jwksUrl)) {
                throw new IllegalArgumentException("set FANOUT_JWT_HS256_SECRET, FANOUT_JWT_RS256_PUBLIC_KEY or "
                        + "FANOUT_JWT_JWKS_URL: the node cannot verify tokens without one");
            }
            if (!blank(hs256Secret) && hs256Secret.length() < 32) {
                throw new IllegalArgumentException("FANOUT_JWT_HS256_SECRET has " + hs256Secret.length()
                        + " characters; use at least 32");
            }
            if (!blank(ticketSecret) && ticketSecret.length() < 32) {
                throw new IllegalArgumentException("FANOUT_TICKET_SECRET has " + ticketSecret.length()
                        + " characters; use at least 32");
            }
            if (!blank(jwksUrl)) {
                VerificationKeys.requireSecureUrl(jwksUrl);
            }
            positive("FANOUT_MAX_USER_ID_BYTES", maxUserIdBytes);
            positive("FANOUT_TICKET_TTL_MS", ticketTtl.toMillis());
        }

        static TokenSettings from(Environment env) {
            return new TokenSettings(
                    env.text("FANOUT_JWT_HS256_SECRET", null),
                    env.text("FANOUT_JWT_RS256_PUBLIC_KEY", null),
                    env.text("FANOUT_JWT_JWKS_URL", null),
                    env.text("FANOUT_JWT_ISSUER", null),
                    env.text("FANOUT_JWT_AUDIENCE", null),
                    env.flag("FANOUT_JWT_REQUIRE_EXP", true),
                    env.millis("FANOUT_JWKS_REFRESH_MS", Duration.ofMinutes(5)),
                    env.millis("FANOUT_JWKS_MIN_REFRESH_MS", Duration.ofSeconds(30)),
                    env.integer("FANOUT_MAX_USER_ID_BYTES", 512),
                    env.text("FANOUT_TICKET_SECRET", null),
                    env.millis("FANOUT_TICKET_TTL_MS", Duration.ofSeconds(30)),
                    env.millis("FANOUT_TOKEN_EXPIRY_WARNING_MS", Duration.ofSeconds(60)));
        }

        @Override
        public String toString() {
            return "{" + (blank(hs256Secret) ? "" : "HS256(****) ") + (blank(rs256PublicKeyPem) ? "" : "RS256 ")
                    + (blank(jwksUrl) ? "" : "JWKS(" + jwksUrl + ") ") + "issuer=" + issuer + ", audience=" + audience
                    + ", requireExp=" + requireExp + ", jwksRefreshMs=" + jwksRefresh.toMillis()
                    + ", jwksMinRefreshMs=" + jwksMinRefresh.toMillis() + ", maxUserIdBytes=" + maxUserIdBytes
                    + ", ticketSecret=" + (blank(ticketSecret) ? "(derived)" : "****") + ", ticketTtlMs="
                    + ticketTtl.toMillis() + ", expiryWarningMs=" + expiryWarning.toMillis() + "}";
        }
    }

    /** What a client may open and send. */
    public record ClientLimits(List<String> allowedOrigins, int maxConnections, int maxPerAddress, int maxPerUser,
                              List<String> trustedProxies, Duration handshakeTimeout, Duration idleTimeout,
                              int maxClientFrameBytes, int maxClientMessagesPerSecond, int queueFrames,
                              long queueBytes, Duration pingInterval, boolean compression) {

        public ClientLimits {
            allowedOrigins = List.copyOf(allowedOrigins);
            trustedProxies = List.copyOf(trustedProxies);
            positive("FANOUT_MAX_CONNECTIONS", maxConnections);
            positive("FANOUT_MAX_CONNECTIONS_PER_ADDRESS", maxPerAddress);
            positive("FANOUT_MAX_CONNECTIONS_PER_USER", maxPerUser);
            positive("FANOUT_HANDSHAKE_TIMEOUT_MS", handshakeTimeout.toMillis());
            if (idleTimeout.compareTo(pingInterval) <= 0) {
                throw new IllegalArgumentException("FANOUT_IDLE_TIMEOUT_MS " + idleTimeout.toMillis() + " must exceed"
                        + " FANOUT_PING_INTERVAL_MS " + pingInterval.toMillis() + ", or idle sockets would be cut");
            }
        }

        static ClientLimits from(Environment env) {
            String compression = env.text("FANOUT_WS_COMPRESSION", "off");
            if (!compression.equals("off") && !compression.equals("on")) {
                throw new IllegalArgumentException("FANOUT_WS_COMPRESSION '" + compression + "' is not off or on");
            }
            return new ClientLimits(
                    list(env.text("FANOUT_ALLOWED_ORIGINS", "*")),
                    env.integer("FANOUT_MAX_CONNECTIONS", 20_000),
                    env.integer("FANOUT_MAX_CONNECTIONS_PER_ADDRESS", 1000),
                    env.integer("FANOUT_MAX_CONNECTIONS_PER_USER", 16),
                    list(env.text("FANOUT_TRUSTED_PROXIES", "")),
                    env.millis("FANOUT_HANDSHAKE_TIMEOUT_MS", Duration.ofSeconds(10)),
                    env.millis("FANOUT_IDLE_TIMEOUT_MS", Duration.ofSeconds(60)),
                    env.integer("FANOUT_MAX_CLIENT_FRAME_BYTES", 4096),
                    env.integer("FANOUT_MAX_CLIENT_MESSAGES_PER_SECOND", 20),
                    env.integer("FANOUT_QUEUE_FRAMES", 2000),
                    env.longValue("FANOUT_QUEUE_BYTES", 4L * 1024 * 1024),
                    env.millis("FANOUT_PING_INTERVAL_MS", Duration.ofSeconds(15)),
                    compression.equals("on"));
        }

        boolean originAllowed(String origin) {
            return origin == null || allowedOrigins.contains("*") || allowedOrigins.contains(origin);
        }
    }

    /** How resume positions memory no longer holds are read back from Kafka. */
    public record CatchUp(int threads, int queue, int perUser, Duration timeout, long maxRecords) {

        public CatchUp {
            positive("FANOUT_CATCHUP_THREADS", threads);
            positive("FANOUT_CATCHUP_QUEUE", queue);
            positive("FANOUT_CATCHUP_PER_USER", perUser);
            positive("FANOUT_CATCHUP_TIMEOUT_MS", timeout.toMillis());
        }

        static CatchUp from(Environment env) {
            return new CatchUp(
                    env.integer("FANOUT_CATCHUP_THREADS", 2),
                    env.integer("FANOUT_CATCHUP_QUEUE", 256),
                    env.integer("FANOUT_CATCHUP_PER_USER", 1),
                    env.millis("FANOUT_CATCHUP_TIMEOUT_MS", Duration.ofSeconds(60)),
                    env.longValue("FANOUT_CATCHUP_MAX_RECORDS", 500_000));
        }
    }

    public FanoutConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(registryUrl, "SCHEMA_REGISTRY_URL must be set");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(clients, "clients");
        Objects.requireNonNull(catchUp, "catchUp");
        allowedNodeUrls = List.copyOf(allowedNodeUrls);
        if (demo && !demoOnAnyHost && !VerificationKeys.isLoopback(host)) {
            throw new IllegalArgumentException("FANOUT_DEMO=true hands out tokens for any user: it works only on a"
                    + " loopback FANOUT_HOST (this is '" + host + "'); set FANOUT_DEMO_ON_ANY_HOST=true to force it");
        }
    }

    static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static void positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " " + value + " must be at least 1");
        }
    }

    private static List<String> list(String text) {
        return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    public static FanoutConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static FanoutConfig from(Environment env) {
        return new FanoutConfig(
                env.kafka(),
                env.required("SCHEMA_REGISTRY_URL"),
                env.topics(),
                env.text("FANOUT_HOST", "0.0.0.0"),
                env.integer("FANOUT_PORT", 8080),
                env.text("FANOUT_PUBLIC_URL", null),
                env.text("FANOUT_NODE_ID", "node-" + UUID.randomUUID().toString().substring(0, 8)),
                env.text("FANOUT_GROUP_ID", "agent-events-fanout"),
                list(env.text("FANOUT_ALLOWED_NODE_URLS", "")),
                TokenSettings.from(env),
                ClientLimits.from(env),
                CatchUp.from(env),
                env.integer("FANOUT_BUFFER_EVENTS", 20_000),
                env.longValue("FANOUT_BUFFER_BYTES", 32L * 1024 * 1024),
                env.integer("FANOUT_PRELOAD_EVENTS", 2000),
                env.millis("FANOUT_SESSION_TIMEOUT_MS", Duration.ofSeconds(6)),
                env.flag("FANOUT_DEMO", false),
                env.flag("FANOUT_DEMO_ON_ANY_HOST", false),
                env.millis("FANOUT_DEMO_TOKEN_TTL_MS", Duration.ofHours(1)),
                AgUi.from(env));
    }

    /** The WebSocket URL to advertise once the actual port is known. */
    String advertisedUrl(int actualPort) {
        return publicUrl != null ? publicUrl : "ws://127.0.0.1:" + actualPort + "/ws";
    }

    /**
     * Whether a node may be handed out as serving a user: its URL starts with one of {@code FANOUT_ALLOWED_NODE_URLS},
     * or — when that is empty — has this node's own scheme and host.
     */
    boolean nodeUrlAllowed(String url, String ownUrl) {
        if (url == null) {
            return false;
        }
        if (!allowedNodeUrls.isEmpty()) {
            return allowedNodeUrls.stream().anyMatch(url::startsWith);
        }
        try {
            URI candidate = URI.create(url);
            URI own = URI.create(ownUrl);
            return Objects.equals(candidate.getScheme(), own.getScheme())
                    && Objects.equals(candidate.getHost(), own.getHost());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "FanoutConfig{kafka=" + kafka + ", registry=" + registryUrl + ", topic=" + topics.ordered()
                + ", listen=" + host + ":" + port + ", publicUrl=" + publicUrl + ", nodeId=" + nodeId + ", groupId="
                + groupId + ", allowedNodeUrls=" + allowedNodeUrls + ", tokens=" + tokens + ", clients="
                + clients + ", catchUp=" + catchUp + ", bufferEvents=" + bufferEvents + ", bufferBytes="
                + bufferBytes + ", preloadEvents=" + preloadEvents + ", sessionTimeoutMs=" + sessionTimeout.toMillis()
                + ", demo=" + demo + (demoOnAnyHost ? " (ON ANY HOST)" : "") + ", agUi=" + agUi + "}";
    }
}
