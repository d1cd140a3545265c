package dev.agentevents.router;

import dev.agentevents.schemas.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the router reads of its topics at start: the input's partition count (to count misrouted input), and whether
 * the ordered and dead-letter topics accept every record the router may write: each topic's
 * {@code max.message.bytes} must hold the largest ordered record and the dead-letter budget of {@link RouterLimits}.
 * A topic with a smaller limit would refuse a record, abort the router's transaction and stop the partition, so the
 * router refuses to start instead, naming the topic, its limit and the setting to change.
 */
final class TopicChecks {

    private static final Logger LOG = LoggerFactory.getLogger(TopicChecks.class);

    private TopicChecks() {
    }

    /** The input topic's partition count (0 when it cannot be read now). */
    static int inputPartitions(Admin admin, Topics topics) {
        try {
            return admin.describeTopics(List.of(topics.events())).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topics.events()).partitions().size();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("cannot read the partitions of {}: misrouted input is not counted ({})", topics.events(),
                    e.toString());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static void check(Admin admin, Topics topics, RouterLimits limits) {
        List<String> names = List.of(topics.ordered(), topics.deadLetters());
        Map<ConfigResource, Config> configs;
        try {
            configs = admin.describeConfigs(names.stream()
                    .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList())
                    .all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                LOG.warn("cannot check the output topics' max.message.bytes: {} does not exist yet", names);
                return;
            }
            throw new IllegalStateException("cannot read the configuration of topics " + names + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within 30 s while reading topics " + names, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading topics " + names, e);
        }
        configs.forEach((resource, config) -> {
            ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            if (entry != null && entry.value() != null) {
                limits.requireFits(Long.parseLong(entry.value()), "max.message.bytes of topic '" + resource.name()
                        + "'");
            }
        });
    }
}
