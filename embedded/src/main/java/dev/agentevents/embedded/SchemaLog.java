package dev.agentevents.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentevents.embedded.PipelineTopics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's storage: a single-partition compacted Kafka topic ({@code _schemas} by default). Appends are
 * transactions, so a request's records become visible together or not at all, and the transactional id fences
 * a second registry that would write the same topic. Reads go from the beginning to the last stable offset.
 *
 * <p>A producer that fails fatally for any other reason than that fence (its abort fails too, so it can never
 * transact again) is replaced by a new one, and the request is tried once more on it.
 */
final class SchemaLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaLog.class);

    private final String topic;
    private final Map<String, Object> clientConfig;
    private final TopicPartition partition;
    private final Map<String, Object> producerConfig;
    private final Function<Map<String, Object>, Producer<byte[], byte[]>> producers;
    private Producer<byte[], byte[]> producer;

    SchemaLog(String bootstrapServers, String topic, Map<String, String> clientOverrides) {
        this(bootstrapServers, topic, clientOverrides,
                config -> new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer()));
    }

    /** {@code producers} makes a transactional producer from its configuration (tests inject failing ones). */
    SchemaLog(String bootstrapServers, String topic, Map<String, String> clientOverrides,
              Function<Map<String, Object>, Producer<byte[], byte[]>> producers) {
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.clientConfig = new HashMap<>(clientOverrides);
        clientConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        this.producerConfig = new HashMap<>(clientConfig);
        producerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "schema-registry-" + topic);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        producerConfig.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        this.producers = producers;
        this.producer = producers.apply(producerConfig);
    }

    /** Creates the topic if missing (1 partition, compacted, {@code replication} replicas) and checks it. */
    void ensureTopic(short replication) throws InterruptedException {
        try (Admin admin = Admin.create(clientConfig)) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            if (!names.contains(topic)) {
                NewTopic newTopic = new NewTopic(topic, 1, replication).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(Math.min(2, replication))));
                try {
                    admin.createTopics(List.of(newTopic)).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            int partitions = PipelineTopics.describe(admin, List.of(topic)).get(topic).partitions().size();
            if (partitions != 1) {
                throw new IllegalStateException("schema topic '" + topic + "' has " + partitions
                        + " partitions; it must have exactly 1 so that ids are assigned in one order");
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot set up schema topic '" + topic + "' at "
                    + clientConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) + ": " + e, e);
        }
        producer.initTransactions();
    }

    /** Feeds every committed record from the beginning to the current end to {@code apply} (value null = delete). */
    void replay(BiConsumer<JsonNode, JsonNode> apply) {
        Map<String, Object> consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), Duration.ofSeconds(30)).get(partition);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.position(partition, Duration.ofSeconds(30)) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read schema topic '" + topic + "' to offset " + end
                            + " within 60 s");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        JsonNode key = RegistryState.JSON.readTree(new String(record.key(), StandardCharsets.UTF_8));
                        JsonNode value = record.value() == null ? null
                                : RegistryState.JSON.readTree(new String(record.value(), StandardCharsets.UTF_8));
                        apply.accept(key, value);
                    } catch (IOException e) {
                        throw new IllegalStateException("schema topic '" + topic + "' holds an unreadable record at"
                                + " offset " + record.offset() + ": " + e.getMessage(), e);
                    }
                }
            }
        }
    }

    /**
     * Appends {@code records} in one transaction; throws a 50001 {@link RegistryError} if it did not commit. Called
     * by one thread at a time (the registry's write lock).
     */
    void append(List<RegistryState.LogRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        KafkaException failure = tryAppend(records);
        if (failure != null && !abort(failure) && !fenced(failure)) {
            LOG.warn("the producer of schema topic '{}' failed for good ({}); starting a new one and trying once more",
                    topic, failure.toString());
            try {
                replaceProducer();
                failure = tryAppend(records);
                if (failure != null) {
                    abort(failure);
                }
            } catch (KafkaException replaceFailure) {
                failure = replaceFailure;
            }
        }
        if (failure != null) {
            throw new RegistryError(500, RegistryError.STORE_ERROR,
                    "Error while storing to Kafka topic '" + topic + "': " + failure.getMessage());
        }
    }

    /** One transaction holding {@code records}; the failure, or null once it committed. */
    private KafkaException tryAppend(List<RegistryState.LogRecord> records) {
        try {
            producer.beginTransaction();
            for (RegistryState.LogRecord record : records) {
                producer.send(new ProducerRecord<>(topic, 0, bytes(record.key()),
                        record.value() == null ? null : bytes(record.value())));
            }
            producer.commitTransaction();
            return null;
        } catch (KafkaException e) {
            return e;
        }
    }

    /** Aborts the failed transaction; false if that fails too, i.e. the producer can never transact again. */
    private boolean abort(KafkaException failure) {
        try {
            producer.abortTransaction();
            return true;
        } catch (KafkaException abortFailure) {
            failure.addSuppressed(abortFailure);
            return false;
        }
    }

    /** Whether a second registry took over the transactional id: then this one must stay refused. */
    private static boolean fenced(KafkaException failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Throwable> toLook = new ArrayDeque<>(List.of(failure));
        while (!toLook.isEmpty()) {
            Throwable t = toLook.pop();
            if (t instanceof ProducerFencedException) {
                return true;
            }
            if (seen.add(t)) {
                if (t.getCause() != null) {
                    toLook.push(t.getCause());
                }
                toLook.addAll(List.of(t.getSuppressed()));
            }
        }
        return false;
    }

    /** Closes the dead producer and starts another with the same transactional id (aborting what it left open). */
    private void replaceProducer() {
        producer.close(Duration.ZERO);
        producer = producers.apply(producerConfig);
        producer.initTransactions();
    }

    private static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
