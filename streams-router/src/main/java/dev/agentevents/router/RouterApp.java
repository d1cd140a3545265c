package dev.agentevents.router;

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
 * counters, Kafka Streams' own, JVM) and the {@code /metrics} and {@code /health} endpoints. A stream thread that
 * dies is replaced; {@link #close} stops everything within the timeout.
 */
public final class RouterApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RouterApp.class);

    private final KafkaStreams streams;
    private final PrometheusMeterRegistry registry;
    private final KafkaStreamsMetrics streamsMetrics;
    private final OpsServer ops;
    private final InputProgress.Monitor progress;

    private RouterApp(KafkaStreams streams, PrometheusMeterRegistry registry, KafkaStreamsMetrics streamsMetrics,
                      OpsServer ops, InputProgress.Monitor progress) {
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
        Properties props = config.streamsProperties();
        props.put(RouterMetrics.CONFIG_KEY, metrics);
        InputProgress.Monitor progress = InputProgress.watch(
                Admin.create(config.kafka().asClientConfig()), config.topics().events(), config.applicationId(),
                config.sweepInterval().compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofMillis(
                        Math.max(100, config.sweepInterval().toMillis())) : Duration.ofSeconds(1));
        Gauge.builder("router.input.behind.ms", progress, p -> p.maxBehindMs(System.currentTimeMillis()))
                .description("how far behind the wall clock the input partition read least far is (the timeouts "
                        + "wait for it)").register(registry);
        KafkaStreams streams = new KafkaStreams(RouterTopology.build(config, metrics, progress), props);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((now, before) -> LOG.info("router state {} -> {}", before, now));
        KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        OpsServer ops = new OpsServer("0.0.0.0", config.httpPort(), registry::scrape, () -> {
            KafkaStreams.State state = streams.state();
            boolean ready = state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
            int activeTasks = state.isRunningOrRebalancing() ? streams.metadataForLocalThreads().stream()
                    .mapToInt(thread -> thread.activeTasks().size()).sum() : 0;
            return new OpsServer.Health(ready, "{\"status\":\"" + (ready ? "UP" : "DOWN") + "\",\"streams\":\""
                    + state + "\",\"activeTasks\":" + activeTasks + "}");
        });
        streams.start();
        return new RouterApp(streams, registry, streamsMetrics, ops, progress);
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
