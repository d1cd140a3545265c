package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The feed's consumer is created with the feed but joins the group only on {@link PartitionFeed#start()} (once the
 * node listens): a node that fails to start before that still closes it.
 */
class PartitionFeedTest {

    private FanoutFixture fixture;

    @BeforeEach
    void start() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void shouldCloseTheConsumerOfAFeedThatNeverStarted() throws Exception {
        FanoutConfig config = FanoutConfig.fromEnv(fixture.env("feed"));
        FanoutMetrics metrics = new FanoutMetrics(new SimpleMeterRegistry());
        SubscriberRegistry subscribers = new SubscriberRegistry(config, metrics, new FrameReader(
                config.topics().ordered(), AvroDeserializer.generic(new SchemaRegistryClient(
                fixture.stack.registryUrl())), metrics));
        ObjectName consumer = new ObjectName("kafka.consumer:type=app-info,id=feed-never-started");
        try (OwnerDirectory owners = new OwnerDirectory(config)) {
            PartitionFeed feed = new PartitionFeed(config, subscribers, owners, "feed-never-started",
                    "ws://127.0.0.1:1/ws");
            assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(consumer)).isTrue();
            assertThat(feed.isReady()).isFalse();

            feed.close();

            assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(consumer))
                    .as("the consumer is closed").isFalse();
        }
    }
}
