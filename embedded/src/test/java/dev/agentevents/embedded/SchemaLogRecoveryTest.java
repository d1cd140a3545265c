package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The registry's log against a real broker, with its first producer made to fail the way a real one did in a suite
 * run (a commit refused with {@link InvalidTxnStateException}, after which every call says "in an error state").
 */
class SchemaLogRecoveryTest {

    private final String topic = "_schemas-" + UUID.randomUUID();
    private final AtomicInteger made = new AtomicInteger();

    @Test
    void shouldReplaceAProducerThatFailedForGoodAndStoreTheRecordsOnce() throws Exception {
        try (SchemaLog log = logWhoseFirstProducerFails(new InvalidTxnStateException(
                "The producer attempted a transactional operation in an invalid state."))) {
            log.ensureTopic((short) 1);

            log.append(List.of(record("s", 1)));
            log.append(List.of(record("s", 2)));

            assertThat(made).as("the failed producer and its replacement").hasValue(2);
            assertThat(versionsInLog()).containsExactly(1, 2);
        }
    }

    @Test
    void shouldStayRefusedWhenASecondRegistryFencedIt() throws Exception {
        try (SchemaLog log = logWhoseFirstProducerFails(new ProducerFencedException(
                "There is a newer producer with the same transactionalId which fences the current one."))) {
            log.ensureTopic((short) 1);

            assertThatThrownBy(() -> log.append(List.of(record("s", 1))))
                    .isInstanceOfSatisfying(RegistryError.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(500);
                        assertThat(e.errorCode()).isEqualTo(RegistryError.STORE_ERROR);
                        assertThat(e.getMessage()).contains(topic, "newer producer");
                    });

            assertThat(made).as("no second producer to fight the one that fenced it").hasValue(1);
            assertThat(versionsInLog()).isEmpty();
        }
    }

    /** The first producer's commit throws {@code failure}; its abort then fails as a producer in error state does. */
    private SchemaLog logWhoseFirstProducerFails(KafkaException failure) {
        Function<Map<String, Object>, Producer<byte[], byte[]>> producers = config -> {
            if (made.getAndIncrement() > 0) {
                return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
            }
            MockProducer<byte[], byte[]> broken = new MockProducer<>(true, null,
                    new ByteArraySerializer(), new ByteArraySerializer());
            broken.commitTransactionException = failure;
            broken.abortTransactionException = new KafkaException(
                    "Cannot execute transactional method because we are in an error state", failure);
            return broken;
        };
        return new SchemaLog(EmbeddedStack.shared().kafka().bootstrapServers(), topic, Map.of(), producers);
    }

    private static RegistryState.LogRecord record(String subject, int version) {
        ObjectNode key = RegistryState.JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject)
                .put("version", version).put("magic", 1);
        ObjectNode value = RegistryState.JSON.createObjectNode().put("subject", subject).put("version", version)
                .put("id", version).put("schema", "\"string\"").put("deleted", false);
        return new RegistryState.LogRecord(key, value);
    }

    private List<Integer> versionsInLog() {
        List<Integer> versions = new ArrayList<>();
        try (SchemaLog reader = new SchemaLog(EmbeddedStack.shared().kafka().bootstrapServers(), topic, Map.of())) {
            reader.replay((JsonNode key, JsonNode value) -> versions.add(key.path("version").asInt()));
        }
        return versions;
    }
}
