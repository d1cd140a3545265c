package dev.agentevents.embedded;

import dev.agentevents.schemas.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates the pipeline's topics (see {@link Topics}) where they are missing, and checks the ones that exist.
 *
 * <p>The input and ordered topics must have the same partition count, so that a user's partition number is the
 * same in both; a mismatch is an error that names both counts, never silently accepted. Retention: input and
 * ordered 7 days (the resume and audit window of the ordered topic), dead letters 30 days.
 */
public final class PipelineTopics {

    public static final long SEVEN_DAYS_MS = 7L * 24 * 3600 * 1000;
    public static final long THIRTY_DAYS_MS = 30L * 24 * 3600 * 1000;

    private PipelineTopics() {
    }

    /**
     * Creates whichever of {@code topics} is missing with {@code partitions} partitions and {@code replication}
     * replicas ({@code min.insync.replicas} = min(2, replication)), then checks that input and ordered topics
     * agree on their partition count. Returns the partition count in force.
     */
    public static int ensure(Admin admin, Topics topics, int partitions, short replication)
            throws InterruptedException {
        if (partitions < 1) {
            throw new IllegalArgumentException("partition count " + partitions + " must be at least 1");
        }
        if (replication < 1) {
            throw new IllegalArgumentException("replication factor " + replication + " must be at least 1");
        }
        String minIsr = Integer.toString(Math.min(2, replication));
        List<NewTopic> wanted = new ArrayList<>();
        wanted.add(topic(topics.events(), partitions, replication, minIsr, SEVEN_DAYS_MS));
        wanted.add(topic(topics.ordered(), partitions, replication, minIsr, SEVEN_DAYS_MS));
        wanted.add(topic(topics.deadLetters(), partitions, replication, minIsr, THIRTY_DAYS_MS));
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                for (var entry : admin.createTopics(missing).values().entrySet()) {
                    try {
                        entry.getValue().get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            throw new IllegalStateException("cannot create topic '" + entry.getKey() + "': "
                                    + e.getCause().getMessage(), e.getCause());
                        }
                    }
                }
            }
            Map<String, TopicDescription> described = describe(admin, List.of(topics.events(), topics.ordered()));
            int input = described.get(topics.events()).partitions().size();
            int ordered = described.get(topics.ordered()).partitions().size();
            if (input != ordered) {
                throw new IllegalStateException("topic '" + topics.events() + "' has " + input
                        + " partitions but '" + topics.ordered() + "' has " + ordered
                        + ": they must be equal so that a user's partition is the same in both");
            }
            return input;
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot set up topics " + topics.all() + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within 30 s while setting up topics "
                    + topics.all(), e);
        }
    }

    /** Describes {@code names}, waiting while freshly created topics are not yet known to every broker. */
    public static Map<String, TopicDescription> describe(Admin admin, List<String> names)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static NewTopic topic(String name, int partitions, short replication, String minIsr, long retentionMs) {
        Map<String, String> configs = new HashMap<>();
        configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs));
        configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr);
        configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
        return new NewTopic(name, partitions, replication).configs(configs);
    }
}
