package dev.agentevents.router;

import dev.agentevents.config.Environment;
import dev.agentevents.config.KafkaSettings;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.SchemaRegistryClient;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Settings of the router, built once from the environment before any client exists.
 *
 * <p>Shared: {@code KAFKA_*} (see {@link KafkaSettings}), {@code SCHEMA_REGISTRY_URL},
 * {@code AGENT_EVENTS_TOPIC_PREFIX}. The router's own, with defaults:
 * <ul>
 * <li>{@code ROUTER_APPLICATION_ID} (agent-events-router): Kafka Streams application id, shared by all instances;
 * <li>{@code ROUTER_PROCESSING_GUARANTEE} (exactly_once_v2, or at_least_once);
 * <li>{@code ROUTER_COMMIT_INTERVAL_MS} (50): how often output becomes visible to read_committed readers;
 * <li>{@code ROUTER_THREADS} (1), {@code ROUTER_STATE_DIR} (java.io.tmpdir/agent-events-router);
 * <li>the limits on what producers control: see {@link RouterLimits};
 * <li>{@code ROUTER_GAP_TIMEOUT_MS} (5000): how long a missing seq is waited for before a gap marker;
 * <li>{@code ROUTER_ABANDON_AFTER_MS} (300000): idle time after which a run is closed with ABANDONED;
 * <li>{@code ROUTER_RUN_GRACE_MS} (60000): how long a finished run's state is kept to catch late events;
 * <li>{@code ROUTER_SWEEP_INTERVAL_MS} (1000): wall-clock period of the timeout sweep;
 * <li>{@code ROUTER_REGISTRY_RETRY_MS} (5000): how long a record waits for an unreachable registry;
 * <li>{@code ROUTER_PRODUCER_LINGER_MS} (5), {@code ROUTER_REPLICATION_FACTOR} (-1: the brokers' default);
 * <li>{@code ROUTER_SESSION_TIMEOUT_MS} (6000, the least a broker allows by default): how soon the others notice a
 *     crashed instance and take over its partitions (heartbeats every quarter of it, at least 500 ms); within the
 *     brokers' {@code group.min.session.timeout.ms} and {@code group.max.session.timeout.ms}, checked at start;
 * <li>{@code ROUTER_TRANSACTION_TIMEOUT_MS} (5000; above the commit interval): how long a crashed instance's open
 *     transaction holds back read_committed readers of the partitions it wrote, and the committed input offsets of
 *     its tasks, until the brokers abort it (they look every
 *     {@code transaction.abort.timed.out.transaction.cleanup.interval.ms}, 10 s by default: see docs/operations.md);
 * <li>{@code ROUTER_STANDBY_REPLICAS} (0): warm copies of each task's state on other instances, so a take-over need
 *     not restore it from the changelog;
 * <li>{@code ROUTER_MAX_POLL_INTERVAL_MS} (60000): how long a stuck stream thread may hold up a rebalance before the
 *     group goes on without it (Kafka's default, 5 minutes, stopped all routing for that long in the fault run);
 * <li>{@code ROUTER_HTTP_PORT} (8090; 0 = any free port): {@code /metrics} and {@code /health}.
 * </ul>
 */
public record RouterConfig(KafkaSettings kafka, String registryUrl, Topics topics, String applicationId,
                           String processingGuarantee, Duration commitInterval, int threads, String stateDir,
                           RouterLimits limits, Duration gapTimeout, Duration abandonAfter,
                           Duration runGrace, Duration sweepInterval, Duration registryRetry, int producerLingerMs,
                           int replicationFactor, Duration sessionTimeout, Duration transactionTimeout,
                           int standbyReplicas, Duration maxPollInterval, int httpPort) {

    private static final long DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;
    private static final Set<String> GUARANTEES = Set.of(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE);

    public RouterConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(registryUrl, "SCHEMA_REGISTRY_URL must be set");
        Objects.requireNonNull(topics, "topics");
        if (!GUARANTEES.contains(processingGuarantee)) {
            throw new IllegalArgumentException("ROUTER_PROCESSING_GUARANTEE '" + processingGuarantee
                    + "' is not one of " + GUARANTEES);
        }
        Objects.requireNonNull(limits, "limits");
        positive("ROUTER_THREADS", threads);
        positive("ROUTER_SWEEP_INTERVAL_MS", sweepInterval.toMillis());
        positive("ROUTER_COMMIT_INTERVAL_MS", commitInterval.toMillis());
        positive("ROUTER_SESSION_TIMEOUT_MS", sessionTimeout.toMillis());
        if (transactionTimeout.compareTo(commitInterval) <= 0) {
            throw new IllegalArgumentException("ROUTER_TRANSACTION_TIMEOUT_MS " + transactionTimeout.toMillis()
                    + " must be above ROUTER_COMMIT_INTERVAL_MS " + commitInterval.toMillis()
                    + ": every transaction would time out before it is committed");
        }
        if (standbyReplicas < 0) {
            throw new IllegalArgumentException("ROUTER_STANDBY_REPLICAS " + standbyReplicas + " must be 0 or more");
        }
        limits.requireFits(producerMaxRequestSize(kafka), "the producer's max.request.size");
    }

    /** The producer's {@code max.request.size}: {@code KAFKA_PRODUCER_MAX_REQUEST_SIZE}, else Kafka's default. */
    private static long producerMaxRequestSize(KafkaSettings kafka) {
        String value = kafka.properties().getOrDefault(StreamsConfig.producerPrefix(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG), kafka.properties().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        if (value == null) {
            return DEFAULT_MAX_REQUEST_SIZE;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("max.request.size '" + value + "' is not a whole number", e);
        }
    }

    private static void positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " " + value + " must be at least 1");
        }
    }

    public static RouterConfig fromEnv(Map<String, String> variables) {
        return from(Environment.of(variables));
    }

    /** The settings read from {@code env}, which remembers the names it was asked for. */
    public static RouterConfig from(Environment env) {
        return new RouterConfig(
                env.kafka(),
                env.required("SCHEMA_REGISTRY_URL"),
                env.topics(),
                env.text("ROUTER_APPLICATION_ID", "agent-events-router"),
                env.text("ROUTER_PROCESSING_GUARANTEE", StreamsConfig.EXACTLY_ONCE_V2),
                env.millis("ROUTER_COMMIT_INTERVAL_MS", Duration.ofMillis(50)),
                env.integer("ROUTER_THREADS", 1),
                env.text("ROUTER_STATE_DIR", System.getProperty("java.io.tmpdir") + "/agent-events-router"),
                RouterLimits.from(env),
                env.millis("ROUTER_GAP_TIMEOUT_MS", Duration.ofSeconds(5)),
                env.millis("ROUTER_ABANDON_AFTER_MS", Duration.ofMinutes(5)),
                env.millis("ROUTER_RUN_GRACE_MS", Duration.ofMinutes(1)),
                env.millis("ROUTER_SWEEP_INTERVAL_MS", Duration.ofSeconds(1)),
                env.millis("ROUTER_REGISTRY_RETRY_MS", Duration.ofSeconds(5)),
                env.integer("ROUTER_PRODUCER_LINGER_MS", 5),
                env.integer("ROUTER_REPLICATION_FACTOR", -1),
                env.millis("ROUTER_SESSION_TIMEOUT_MS", Duration.ofSeconds(6)),
                env.millis("ROUTER_TRANSACTION_TIMEOUT_MS", Duration.ofSeconds(5)),
                env.integer("ROUTER_STANDBY_REPLICAS", 0),
                env.millis("ROUTER_MAX_POLL_INTERVAL_MS", Duration.ofSeconds(60)),
                env.integer("ROUTER_HTTP_PORT", 8090));
    }

    /** Kafka Streams properties: these settings, then every {@code KAFKA_*} setting for all its clients. */
    public Properties streamsProperties() {
        Properties props = new Properties();
        props.putAll(kafka.asClientConfig());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, replicationFactor);
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                RouterDeserializationExceptionHandler.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, RouterProcessingExceptionHandler.class);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, RouterProductionExceptionHandler.class);
        props.put("processing.exception.handler.global.enabled", true);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), producerLingerMs);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                (int) sessionTimeout.toMillis());
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                (int) Math.max(500, sessionTimeout.toMillis() / 4));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG),
                (int) maxPollInterval.toMillis());
        props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
                (int) transactionTimeout.toMillis());
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
        // A transaction's first write to a partition whose previous transaction's markers are still being written is
        // refused with CONCURRENT_TRANSACTIONS and retried; at the producer's default backoff (100 ms, doubling to
        // 1 s) a busy broker held each transaction open for seconds, past the transaction timeout (fenced, a
        // rebalance) and behind the input. Retry after 10 ms, at most 100 ms apart (KAFKA_PRODUCER_RETRY_BACKOFF_MS
        // and KAFKA_PRODUCER_RETRY_BACKOFF_MAX_MS override it).
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 10);
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG), 100);
        return props;
    }

    /** Serde configs for the registry. */
    public Map<String, Object> registryConfig() {
        return Map.of(SchemaRegistryClient.URL_CONFIG, registryUrl);
    }

    public RouterConfig withGuarantee(String guarantee, Duration commit) {
        return new RouterConfig(kafka, registryUrl, topics, applicationId, guarantee, commit, threads, stateDir,
                limits, gapTimeout, abandonAfter, runGrace, sweepInterval, registryRetry,
                producerLingerMs, replicationFactor, sessionTimeout, transactionTimeout, standbyReplicas,
                maxPollInterval, httpPort);
    }

    @Override
    public String toString() {
        return "RouterConfig{kafka=" + kafka + ", registry=" + registryUrl + ", topics=" + topics.all()
                + ", applicationId=" + applicationId + ", processingGuarantee=" + processingGuarantee
                + ", commitIntervalMs=" + commitInterval.toMillis() + ", threads=" + threads + ", stateDir="
                 + stateDir + ", limits=" + limits + ", gapTimeoutMs=" + gapTimeout.toMillis()
                + ", abandonAfterMs=" + abandonAfter.toMillis()
                + ", runGraceMs=" + runGrace.toMillis() + ", sweepIntervalMs=" + sweepInterval.toMillis()
                + ", registryRetryMs=" + registryRetry.toMillis() + ", producerLingerMs=" + producerLingerMs
                + ", replicationFactor=" + replicationFactor + ", sessionTimeoutMs=" + sessionTimeout.toMillis()
                + ", transactionTimeoutMs=" + transactionTimeout.toMillis() + ", standbyReplicas=" + standbyReplicas
                + ", maxPollIntervalMs=" + maxPollInterval.toMillis()
                + ", httpPort=" + httpPort + "}";
    }
}
