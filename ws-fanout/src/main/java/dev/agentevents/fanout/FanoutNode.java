package dev.agentevents.fanout;

import dev.agentevents.config.SessionTimeoutCheck;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running fanout node: its {@link PartitionFeed} (one Kafka consumer in the group of all nodes) filling the
 * {@link SubscriberRegistry}, the {@link OwnerDirectory} and {@link CatchUpReader} beside it, and one
 * {@link FanoutVerticle} per event loop, sharing the port. {@link #close} tells every client {@code moved}, leaves
 * the group so the other nodes take over at once, and stops.
 */
public final class FanoutNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FanoutNode.class);

    private final FanoutConfig config;
    private final Vertx vertx;
    private final PartitionFeed feed;
    private final SubscriberRegistry subscribers;
    private final OwnerDirectory owners;
    private final CatchUpReader catchUp;
    private final OffsetLookup offsets;
    private final TokenVerifier tokens;
    private final PrometheusMeterRegistry registry;
    private final List<FanoutVerticle> verticles;
    private final int port;
    private final String advertisedUrl;

    private FanoutNode(FanoutConfig config, Vertx vertx, FanoutVerticle.Shared shared,
                       PrometheusMeterRegistry registry, List<FanoutVerticle> verticles) {
        this.config = config;
        this.vertx = vertx;
        this.feed = shared.feed();
        this.subscribers = shared.registry();
        this.owners = shared.owners();
        this.catchUp = shared.catchUp();
        this.offsets = shared.offsets();
        this.tokens = shared.tokens();
        this.registry = registry;
        this.verticles = verticles;
        this.port = shared.port();
        this.advertisedUrl = shared.advertisedUrl();
    }

    /** Starts the node; returns once it listens and its consumer has subscribed (it joins the group on its thread). */
    public static FanoutNode start(FanoutConfig config) {
        LOG.info("starting fanout node with {}", config);
        try (Admin admin = Admin.create(config.kafka().asClientConfig())) {
            SessionTimeoutCheck.requireAllowed(admin, "FANOUT_SESSION_TIMEOUT_MS", config.sessionTimeout());
        }
        int port = config.port() != 0 ? config.port() : freePort();
        String url = config.advertisedUrl(port);
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        FanoutMetrics metrics = new FanoutMetrics(registry);
        OwnerDirectory owners = new OwnerDirectory(config);
        FrameReader frames = new FrameReader(config.topics().ordered(),
                AvroDeserializer.generic(new SchemaRegistryClient(config.registryUrl())), metrics);
        SubscriberRegistry subscribers = new SubscriberRegistry(config, metrics, frames);
        String clientId = OwnerDirectory.clientId(config.nodeId(), url);
        CatchUpReader catchUp = new CatchUpReader(config, metrics, frames, clientId);
        PartitionFeed feed = null;
        OffsetLookup offsets = null;
        try {
            VerificationKeys keys = VerificationKeys.load(config);
            TokenVerifier tokens = new TokenVerifier(vertx, keys, config);
            if (!FanoutConfig.blank(config.tokens().jwksUrl())) {
                vertx.setPeriodic(config.tokens().jwksRefresh().toMillis(),
                        id -> vertx.executeBlocking(keys::refresh, false));
            }
            if (config.demo() && config.demoOnAnyHost()) {
                LOG.warn("FANOUT_DEMO_ON_ANY_HOST=true: /dev/token hands out tokens for ANY user on {}, reachable from"
                        + " other machines. Never do this with a production secret.", config.host());
            }
            if (!config.tokens().requireExp()) {
                LOG.warn("FANOUT_JWT_REQUIRE_EXP=false: tokens without exp are accepted and their connections never"
                        + " expire");
            }
            feed = new PartitionFeed(config, subscribers, owners, clientId, url);
            offsets = new OffsetLookup(config, clientId);
            FanoutVerticle.Shared shared = new FanoutVerticle.Shared(config, port, feed, subscribers, owners, catchUp,
                    offsets, tokens, Tickets.of(config), new ConnectionLimits(config), metrics, url,
                    resource("webroot/agent-events-client.js"), resource("webroot/agent-events-ag-ui.js"));
            List<FanoutVerticle> verticles = new CopyOnWriteArrayList<>();
            vertx.deployVerticle(() -> {
                FanoutVerticle verticle = new FanoutVerticle(shared);
                verticles.add(verticle);
                return verticle;
            }, new DeploymentOptions().setInstances(loops)).await(30, TimeUnit.SECONDS);
            // joins the group only now that it can serve: a partition handed to it is served the moment it is
            // assigned, rather than after the event loops have started listening
            feed.start();
            FanoutNode node = new FanoutNode(config, vertx, shared, registry, verticles);
            LOG.info("fanout node {} serving http://{}:{}/ ({} event loops), advertised as {}", config.nodeId(),
                    config.host(), port, loops, url);
            return node;
        } catch (Exception e) {
            if (feed != null) {
                feed.close();
            }
            catchUp.close();
            owners.close();
            if (offsets != null) {
                offsets.close();
            }
            vertx.close();
            throw new IllegalStateException("fanout node did not start: " + e.getMessage(), e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port", e);
        }
    }

    private static String resource(String name) {
        try (InputStream in = FanoutNode.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:port} */
    public String httpUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The WebSocket URL this node advertises. */
    public String webSocketUrl() {
        return advertisedUrl;
    }

    public String nodeId() {
        return config.nodeId();
    }

    public Set<Integer> ownedPartitions() {
        return subscribers.ownedPartitions();
    }

    /** The partition of {@code userId}'s events. */
    public int partitionOf(String userId) {
        return feed.partitionOf(userId);
    }

    /** Waits until the node has polled and owns {@code minimum} partitions or more. */
    public boolean awaitPartitions(int minimum, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (feed.isReady() && subscribers.ownedPartitions().size() >= minimum) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** A demo token for {@code userId} (needs the HS256 secret). */
    public String issueToken(String userId, Duration ttl) {
        return tokens.issue(userId, ttl);
    }

    /** Closes every client connection abruptly, as a crash or network cut would. */
    public void disconnectAll() {
        verticles.forEach(FanoutVerticle::disconnectAll);
    }

    /** Open client connections on this node. */
    public int connectionCount() {
        return verticles.stream().mapToInt(FanoutVerticle::connectionCount).sum();
    }

    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    @Override
    public void close() {
        feed.close();
        catchUp.close();
        owners.close();
        offsets.close();
        try {
            vertx.close().await(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("vert.x did not close cleanly: {}", e.toString());
        }
        registry.close();
    }
}
