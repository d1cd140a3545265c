package dev.agentevents.testing;

import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;

/**
 * Reading a topic in a test, every read bounded: {@link #atLeast} waits (through Awaitility, on the calling thread,
 * since a consumer is single-threaded) until enough records arrived and fails naming how many did; {@link #readFor}
 * keeps reading for a while, so that a record beyond the expected ones (a duplicate) is seen.
 */
public final class Records {

    private static final Duration POLL = Duration.ofMillis(200);

    private Records() {
    }

    /** Polls {@code consumer} (already subscribed or assigned) until at least {@code count} records arrived. */
    public static <K, V> List<ConsumerRecord<K, V>> atLeast(Consumer<K, V> consumer, int count, Duration timeout) {
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        Awaitility.await(count + " records").atMost(timeout).pollInSameThread().pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1)).until(() -> {
                    consumer.poll(POLL).forEach(records::add);
                    return records.size();
                }, greaterThanOrEqualTo(count));
        return records;
    }

    /** The first record to arrive. */
    public static <K, V> ConsumerRecord<K, V> first(Consumer<K, V> consumer, Duration timeout) {
        return atLeast(consumer, 1, timeout).get(0);
    }

    /** {@link #atLeast} and then {@link #readFor} {@code quiet} more: the expected records and any beyond them. */
    public static <K, V> List<ConsumerRecord<K, V>> atLeastAndAnyMore(Consumer<K, V> consumer, int count, Duration timeout,
                                                            Duration quiet) {
        List<ConsumerRecord<K, V>> records = atLeast(consumer, count, timeout);
        records.addAll(readFor(consumer, quiet));
        return records;
    }

    /** Whatever arrives within {@code period}. */
    public static <K, V> List<ConsumerRecord<K, V>> readFor(Consumer<K, V> consumer, Duration period) {
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        long end = System.nanoTime() + period.toNanos();
        for (long left = period.toNanos(); left > 0; left = end - System.nanoTime()) {
            consumer.poll(Duration.ofNanos(Math.min(left, POLL.toNanos()))).forEach(records::add);
        }
        return records;
    }
}
