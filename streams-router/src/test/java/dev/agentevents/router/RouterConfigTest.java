package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** The failover settings reach Kafka Streams, and a transaction timeout that could never commit is refused. */
class RouterConfigTest {

    private static Map<String, String> env(String... settings) {
        Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092",
                "SCHEMA_REGISTRY_URL", "http://localhost:8081"));
        for (int i = 0; i < settings.length; i += 2) {
            env.put(settings[i], settings[i + 1]);
        }
        return env;
    }

    @Test
    void shouldUseTheShortestSessionTimeoutAStockBrokerAllowsByDefault() {
        Properties props = RouterConfig.fromEnv(env()).streamsProperties();

        assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG))).isEqualTo(6000);
        assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG))).isEqualTo(1500);
        assertThat(props.get(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG))).isEqualTo(5000);
        assertThat(props.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG)).isEqualTo(0);
    }

    @Test
    void shouldPassTheFailoverSettingsOn() {
        Properties props = RouterConfig.fromEnv(env("ROUTER_SESSION_TIMEOUT_MS", "1500",
                "ROUTER_TRANSACTION_TIMEOUT_MS", "3000", "ROUTER_STANDBY_REPLICAS", "1")).streamsProperties();

        assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG))).isEqualTo(1500);
        assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG)))
                .as("never more often than every 500 ms").isEqualTo(500);
        assertThat(props.get(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG))).isEqualTo(3000);
        assertThat(props.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG)).isEqualTo(1);
    }

    @Test
    void shouldRetryARefusedTransactionalWriteSoonUnlessTheOperatorSaysOtherwise() {
        Properties defaults = RouterConfig.fromEnv(env()).streamsProperties();
        assertThat(defaults.get(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG))).isEqualTo(10);
        assertThat(defaults.get(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG)))
                .isEqualTo(100);

        Properties overridden = RouterConfig.fromEnv(env("KAFKA_PRODUCER_RETRY_BACKOFF_MS", "250"))
                .streamsProperties();
        assertThat(String.valueOf(overridden.get(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG))))
                .isEqualTo("250");
    }

    @Test
    void shouldRefuseATransactionTimeoutNotAboveTheCommitInterval() {
        assertThatThrownBy(() -> RouterConfig.fromEnv(env("ROUTER_TRANSACTION_TIMEOUT_MS", "50")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ROUTER_TRANSACTION_TIMEOUT_MS 50 must be above ROUTER_COMMIT_INTERVAL_MS 50: every "
                        + "transaction would time out before it is committed");
        assertThatThrownBy(() -> RouterConfig.fromEnv(env("ROUTER_STANDBY_REPLICAS", "-1")))
                .hasMessageContaining("ROUTER_STANDBY_REPLICAS -1");
    }
}
