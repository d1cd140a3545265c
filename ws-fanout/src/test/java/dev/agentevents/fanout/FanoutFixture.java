package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Completed;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;

/**
 * What fanout tests stand on: the shared embedded broker and registry, topics of their own, fanout nodes, and a
 * writer of {@code agent-events-ordered} records as the router would write them (tests may write that topic
 * directly; the router has its own tests).
 */
final class FanoutFixture implements AutoCloseable {

    static final String SECRET = "test-secret-that-is-long-enough-for-hs256!";
    static final int PARTITIONS = 4;

    final EmbeddedStack stack;
    final Topics topics;
    final String groupId;
    private final List<FanoutNode> nodes = new ArrayList<>();
    private final KafkaProducer<String, OrderedEvent> producer;
    private final Map<String, String> lastHash = new HashMap<>();

    FanoutFixture() throws InterruptedException {
        this(EmbeddedStack.shared());
    }

    /** On a stack of the test's own, which it may stop and start. */
    FanoutFixture(EmbeddedStack stack) throws InterruptedException {
        this.stack = stack;
        String prefix = "fo-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topics = stack.topicsWithPrefix(prefix, PARTITIONS);
        groupId = prefix + "fanout";
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 0), new StringSerializer(),
                new AvroSerializer<>(new SchemaRegistryClient(stack.registryUrl()), Map.of(), false));
    }

    Map<String, String> env(String nodeId) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", topics.prefix());
        env.put("FANOUT_HOST", "127.0.0.1");
        env.put("FANOUT_PORT", "0");
        env.put("FANOUT_NODE_ID", nodeId);
        env.put("FANOUT_GROUP_ID", groupId);
        env.put("FANOUT_JWT_HS256_SECRET", SECRET);
        env.put("FANOUT_SESSION_TIMEOUT_MS", "6000");
        return env;
    }

    FanoutNode startNode(String nodeId, Map<String, String> overrides) throws InterruptedException {
        Map<String, String> env = env(nodeId);
        env.putAll(overrides);
        FanoutNode node = FanoutNode.start(FanoutConfig.fromEnv(env));
        nodes.add(node);
        return node;
    }

    /** A node that owns every partition (the only one in its group). */
    FanoutNode startSoleNode(Map<String, String> overrides) throws InterruptedException {
        FanoutNode node = startNode("node-a", overrides);
        if (!node.awaitPartitions(PARTITIONS, Duration.ofSeconds(30))) {
            throw new AssertionError("node did not get all partitions: " + node.ownedPartitions());
        }
        return node;
    }

    /** Waits until two nodes of the group share every partition between them, each owning some. */
    static void awaitSplit(FanoutNode a, FanoutNode b) {
        Awaitility.await("partitions split between both nodes").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                    assertThat(a.ownedPartitions()).isNotEmpty();
                    assertThat(b.ownedPartitions()).isNotEmpty().doesNotContainAnyElementsOf(a.ownedPartitions());
                    assertThat(a.ownedPartitions().size() + b.ownedPartitions().size()).isEqualTo(PARTITIONS);
                });
    }

    void stop(FanoutNode node) {
        nodes.remove(node);
        node.close();
    }

    /** Users whose events share one partition, found by trying names. */
    static List<String> usersInOnePartition(FanoutNode node, int count) {
        Map<Integer, List<String>> byPartition = new HashMap<>();
        for (int i = 0; ; i++) {
            String user = "user-" + i;
            List<String> users = byPartition.computeIfAbsent(node.partitionOf(user), p -> new ArrayList<>());
            users.add(user);
            if (users.size() == count) {
                return users;
            }
        }
    }

    /** Builds and writes one event of a run as the router would; returns where it landed. */
    RecordMetadata write(AgentEvent event) throws Exception {
        String key = event.getUserId() + "/" + event.getRunId();
        OrderedEvent ordered = OrderedRecords.event(lastHash.getOrDefault(key, HashChain.GENESIS), event,
                Instant.now(), null);
        lastHash.put(key, ordered.getHash());
        return producer.send(new ProducerRecord<>(topics.ordered(), event.getUserId(), ordered)).get(30,
                TimeUnit.SECONDS);
    }

    /** Writes a gap marker of a run, as the router does when it gives up waiting for seqs. */
    RecordMetadata writeGap(String userId, String runId, long fromSeq, long toSeq, String reason) throws Exception {
        String key = userId + "/" + runId;
        OrderedEvent gap = OrderedRecords.gap(lastHash.getOrDefault(key, HashChain.GENESIS), userId,
                "thread-" + userId, runId, new dev.agentevents.event.Gap(fromSeq, toSeq, 5000L, reason), Instant.now());
        lastHash.put(key, gap.getHash());
        return producer.send(new ProducerRecord<>(topics.ordered(), userId, gap)).get(30, TimeUnit.SECONDS);
    }

    /** The events of a complete run: started, thinking, tool call and result, completed (seq 0..4). */
    static List<AgentEvent> run(String userId, String runId) {
        List<AgentEvent> events = new ArrayList<>();
        events.add(event(userId, runId, 0, "agent_started").build());
        events.add(event(userId, runId, 1, "agent_thinking").setThinking(new Thinking("Let me check.")).build());
        events.add(event(userId, runId, 2, "tool_executing").setToolCallId("call-1")
                .setToolCall(new ToolCall("web_search", "{\"query\":\"weather\"}")).build());
        events.add(event(userId, runId, 3, "tool_completed").setToolCallId("call-1")
                .setToolResult(new ToolResult("{\"sky\":\"clear\"}", false, 230L)).build());
        events.add(event(userId, runId, 4, "agent_completed")
                .setCompleted(new Completed("{\"answer\":\"sunny\"}", 120L, 14L, "stop")).build());
        return events;
    }

    static AgentEvent thinking(String userId, String runId, long seq, String text) {
        return event(userId, runId, seq, "agent_thinking").setThinking(new Thinking(text)).build();
    }

    static AgentEvent.Builder event(String userId, String runId, long seq, String type) {
        return AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type).setUserId(userId)
                .setThreadId("thread-" + userId).setRunId(runId).setSeq(seq).setOccurredAt(Instant.now())
                .setAgent(AgentInfo.newBuilder().setId("a").setName("Research assistant").setVersion("1")
                        .setModel("test-model").build());
    }

    void writeAll(List<AgentEvent> events) throws Exception {
        for (AgentEvent event : events) {
            write(event);
        }
    }

    @Override
    public void close() {
        nodes.forEach(FanoutNode::close);
        producer.close();
    }
}
