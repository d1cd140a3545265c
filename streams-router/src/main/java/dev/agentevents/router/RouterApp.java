package dev.agentevents.router;

import dev.agentevents.config.SessionTimeoutCheck;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.serde.SchemaRegistryException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running router instance: the Kafka Streams application of {@link RouterTopology}, its metrics (the router's
 * counters, Kafka Streams' own, JVM) and the {@code /metrics} and {@code /health} endpoints. Before starting it checks
 * that every record it may write fits the output topics ({@link TopicChecks}) and registers the ordered schema.
 * A stream thread that dies is replaced and counted ({@code router_stream_thread_replacements_total}; no input should
 * ever cause one); {@link #close} stops everything within the timeout.
 */
public final class RouterApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RouterApp.class);

    private final KafkaStreams streams;
    private final PrometheusMeterRegistry registry;
    private final KafkaStreamsMetrics streamsMetrics;
    private final OpsServer ops;
    private final InputProgress.Monitor progress;
    private final RouterConfig config;
    private final RouterMetrics metrics;

    private RouterApp(RouterConfig config, RouterMetrics metrics, KafkaStreams streams,
                      PrometheusMeterRegistry registry, KafkaStreamsMetrics streamsMetrics, OpsServer ops,
                      InputProgress.Monitor progress) {
        this.config = config;
        this.metrics = metrics;
        this.progress = progress;
        this.streams = streams;
        this.registry = registry;
        this.streamsMetrics = streamsMetrics;
        this.ops = ops;
    }

    /** Starts the router; {@code ROUTER_HTTP_PORT} 0 picks a free port (see {@link #httpPort()}). */
    public static RouterApp start(RouterConfig config) {
        LOG.info("starting router with {}", config);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        RouterMetrics metrics = new RouterMetrics(registry);
        RouterErrors errors = RouterErrors.of(config, metrics);
        Properties props = config.streamsProperties();
        props.put(RouterErrors.CONFIG_KEY, errors);
        int inputPartitions;
        try (Admin admin = Admin.create(config.kafka().asClientConfig())) {
            TopicChecks.check(admin, config.topics(), config.limits());
            SessionTimeoutCheck.requireAllowed(admin, "ROUTER_SESSION_TIMEOUT_MS", config.sessionTimeout());
            inputPartitions = TopicChecks.inputPartitions(admin, config.topics());
        }
        SchemaRegistryClient schemaRegistry = new SchemaRegistryClient(config.registryUrl());
        registerOrderedSchema(schemaRegistry, config);
        InputProgress.Monitor progress = InputProgress.watch(
                Admin.create(config.kafka().asClientConfig()), config.topics().events(), config.applicationId(),
                config.sweepInterval().compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofMillis(
                        Math.max(100, config.sweepInterval().toMillis())) : Duration.ofSeconds(1));
        Gauge.builder("router.input.behind.seconds", progress,
                        p -> p.maxBehindMs(System.currentTimeMillis()) / 1000.0)
                .description("how far behind the wall clock the input partition read least far is (the timeouts "
                        + "wait for it)").register(registry);
        KafkaStreams streams = new KafkaStreams(RouterTopology.build(config, schemaRegistry, errors, progress, inputPartitions), props);
        streams.setUncaughtExceptionHandler(e -> {
            metrics.threadReplaced();
            LOG.error("stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((now, before) -> LOG.info("router state {} -> {}", before, now));
        KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        OpsServer ops = new OpsServer("0.0.0.0", config.httpPort(), registry::scrape, () -> {
            KafkaStreams.State state = streams.state();
            int activeTasks = state.isRunningOrRebalancing() ? streams.metadataForLocalThreads().stream()
                    .mapToInt(thread -> thread.activeTasks().size()).sum() : 0;
            return RouterHealth.of(state, activeTasks, progress.maxBehindMs(System.currentTimeMillis()));
        });
        streams.start();
        return new RouterApp(config, metrics, streams, registry, streamsMetrics, ops, progress);
    }

    /**
     * Registers (or finds) the ordered topic's schema, so the topology's serializer has its id cached and writing an
     * ordered event never depends on the registry answering; waits up to a minute for an unreachable registry.
     */
    private static void registerOrderedSchema(SchemaRegistryClient registry, RouterConfig config) {
        String subject = Topics.valueSubject(config.topics().ordered());
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (true) {
            try {
                registry.register(subject, OrderedEvent.getClassSchema());
                return;
            } catch (SchemaRegistryException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot register the ordered topic's schema under subject '"
                            + subject + "' at SCHEMA_REGISTRY_URL " + config.registryUrl() + ": " + e.getMessage(), e);
                }
                LOG.warn("schema registry not ready ({}); retrying", e.getMessage());
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while registering the ordered topic's schema", e);
            }
        }
    }

    public RouterConfig config() {
        return config;
    }

    RouterMetrics metrics() {
        return metrics;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Waits until the instance is RUNNING; false if the timeout passed first. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (streams.state() == KafkaStreams.State.RUNNING) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** The Kafka Streams instance, for task and partition metadata. */
    public KafkaStreams streams() {
        return streams;
    }

    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    public int httpPort() {
        return ops.port();
    }

    /** Stops processing, leaving the consumer group at once so the other instances take over without waiting. */
    public void close(Duration timeout) {
        streams.close(CloseOptions.timeout(timeout)
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        streamsMetrics.close();
        progress.close();
        ops.close();
        registry.close();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
