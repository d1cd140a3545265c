package dev.agentevents.fanout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node serves which partition of {@code agent-events-ordered} now, read from the fanout group's assignment:
 * every node's consumer carries {@code fanout|<node id>|<advertised url>} as its client id. Cached for a second,
 * and dropped whenever this node's own assignment changes. Blocking: call off the event loop.
 */
final class OwnerDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OwnerDirectory.class);
    private static final long CACHE_MS = 1000;

    private final Admin admin;
    private final String groupId;
    private final String topic;
    private volatile Map<Integer, String> owners = Map.of();
    private volatile long fetchedAtMs;

    OwnerDirectory(FanoutConfig config) {
        this.admin = Admin.create(config.kafka().asClientConfig());
        this.groupId = config.groupId();
        this.topic = config.topics().ordered();
    }

    /** The client id a node's group consumer carries, from which the other nodes learn its URL. */
    static String clientId(String nodeId, String advertisedUrl) {
        return "fanout|" + nodeId + "|" + advertisedUrl;
    }

    /** The group as it stands, read now: each partition's owner URL, and how many fanout nodes are members. */
    record Look(Map<Integer, String> owners, int members) {
    }

    /** The WebSocket URL of the node that owns {@code partition} now; null while nobody does (a rebalance). */
    String ownerUrl(int partition) {
        if (System.currentTimeMillis() - fetchedAtMs > CACHE_MS) {
            try {
                lookNow();
            } catch (Exception e) {
                LOG.warn("cannot describe consumer group {}: {}", groupId, e.toString());
            }
        }
        return owners.get(partition);
    }

    /** The group read now, past the cache (which it refreshes). */
    Look lookNow() throws Exception {
        Map<Integer, String> fresh = new HashMap<>();
        int members = 0;
        ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(groupId))
                .describedGroups().get(groupId).get(5, TimeUnit.SECONDS);
        for (MemberDescription member : group.members()) {
            String[] parts = member.clientId().split("\\|", 3);
            if (parts.length == 3 && parts[0].equals("fanout")) {
                members++;
                for (TopicPartition tp : member.assignment().topicPartitions()) {
                    if (tp.topic().equals(topic)) {
                        fresh.put(tp.partition(), parts[2]);
                    }
                }
            }
        }
        owners = fresh;
        fetchedAtMs = System.currentTimeMillis();
        return new Look(Map.copyOf(fresh), members);
    }

    /** Forgets the cached assignment: the group changed. */
    void invalidate() {
        fetchedAtMs = 0;
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
