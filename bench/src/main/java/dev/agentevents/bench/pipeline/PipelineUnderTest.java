package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.Meter;
import dev.agentevents.devstack.WarmUp;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.fanout.FanoutNode;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.router.RouterApp;
import dev.agentevents.router.RouterConfig;
import dev.agentevents.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The whole pipeline on the embedded broker and registry: the agent simulator through {@link EventPublisher}, the
 * router, one fanout node, and real WebSocket clients, one per user, recording into a {@link Meter}.
 */
public final class PipelineUnderTest implements AutoCloseable {

    public static final String SECRET = "benchmark-secret-that-is-long-enough-0123456789";

    private final EmbeddedStack stack;
    private final RouterApp router;
    private final FanoutNode node;
    private final SocketClients clients;
    private final EventPublisher publisher;
    private final KafkaProducer<byte[], byte[]> rawProducer;
    private final String input;
    private final List<String> users;
    private AgentSimulator simulator;
    private final Path stateDir;

    public PipelineUnderTest(EmbeddedStack stack, String prefix, String guarantee, Duration commit, int partitions,
                      int routerThreads, List<String> users, Meter meter) throws Exception {
        this.stack = stack;
        this.users = users;
        Topics topics = stack.topicsWithPrefix(prefix, partitions);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", topics.prefix());
        Map<String, String> routerEnv = new HashMap<>(env);
        routerEnv.put("ROUTER_APPLICATION_ID", prefix + "router");
        routerEnv.put("ROUTER_PROCESSING_GUARANTEE", guarantee);
        routerEnv.put("ROUTER_COMMIT_INTERVAL_MS", Long.toString(commit.toMillis()));
        routerEnv.put("ROUTER_THREADS", Integer.toString(routerThreads));
        stateDir = Files.createTempDirectory("bench-router");
        routerEnv.put("ROUTER_STATE_DIR", stateDir.toString());
        routerEnv.put("ROUTER_HTTP_PORT", "0");
        router = RouterApp.start(RouterConfig.fromEnv(routerEnv));
        Map<String, String> fanoutEnv = new HashMap<>(env);
        fanoutEnv.put("FANOUT_HOST", "127.0.0.1");
        fanoutEnv.put("FANOUT_PORT", "0");
        fanoutEnv.put("FANOUT_GROUP_ID", prefix + "fanout");
        fanoutEnv.put("FANOUT_JWT_HS256_SECRET", SECRET);
        fanoutEnv.put("FANOUT_QUEUE_FRAMES", "100000");
        fanoutEnv.put("FANOUT_QUEUE_BYTES", Long.toString(256L * 1024 * 1024));
        fanoutEnv.put("FANOUT_PRELOAD_EVENTS", "0");
        node = FanoutNode.start(FanoutConfig.fromEnv(fanoutEnv));
        router.awaitRunning(Duration.ofSeconds(60));
        node.awaitPartitions(partitions, Duration.ofSeconds(60));
        clients = new SocketClients(1);
        clients.connect(node.webSocketUrl(), users, user -> node.issueToken(user, Duration.ofHours(1)), meter);
        publisher = EventPublisher.create(PublisherConfig.fromEnv(env));
        input = topics.events();
        rawProducer = BareStreamsHop.producer(stack);
    }

    /**
     * Sends one event already in the wire format to the pipeline's input topic, with the producer the bare paths
     * send theirs with ({@link BareStreamsHop#producer}: the publisher's settings).
     */
    void sendRaw(byte[] key, byte[] value) {
        rawProducer.send(new ProducerRecord<>(input, key, value));
    }

    /** What the devstack does before it says READY: simulated runs of users of its own through every stage. */
    public void warmUp() throws Exception {
        WarmUp.run(publisher, List.of(node));
    }

    /**
     * Starts the simulator at {@code rate} events per second (0: as fast as the pipeline takes them, holding while
     * more than {@code maxInFlight} events are on their way).
     */
    public void drive(double rate, Meter meter, long maxInFlight) {
        simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, rate, 0.05, 2, 0,
                System.nanoTime()), new AgentSimulator.Listener() { });
        AgentSimulator running = simulator;
        long arrivedBefore = meter.arrivals();
        long sentBefore = 0;
        simulator.holdWhile(() -> running.stats().sent() - sentBefore - (meter.arrivals() - arrivedBefore)
                > maxInFlight).start();
    }

    public void stopDriving() {
        if (simulator != null) {
            simulator.stop();
            simulator = null;
        }
        publisher.flush();
    }

    @Override
    public void close() throws Exception {
        stopDriving();
        rawProducer.close(Duration.ofSeconds(10));
        publisher.close();
        clients.close();
        node.close();
        router.close(Duration.ofSeconds(20));
        EmbeddedKafka.deleteRecursively(stateDir);
    }
}
