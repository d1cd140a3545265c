package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.awaitility.Awaitility;

/** Waiting on what the test clients collect (frames, events): at least so many, or nothing more for a while. */
final class Arrivals {

    static final Duration POLL = Duration.ofMillis(20);

    private Arrivals() {
    }

    /** Waits until {@code items} holds at least {@code count}; a timeout names what it held. */
    static void awaitAtLeast(String what, Supplier<List<?>> items, int count, Duration timeout) {
        Awaitility.await(count + " " + what).atMost(timeout).pollInterval(POLL)
                .untilAsserted(() -> assertThat(items.get()).as(what).hasSizeGreaterThanOrEqualTo(count));
    }

    /** Asserts that none of {@code lists} grows for {@code quiet}: how a test shows that nothing more was sent. */
    static void assertNoneAddedFor(Duration quiet, List<?>... lists) {
        int[] seen = Arrays.stream(lists).mapToInt(List::size).toArray();
        Awaitility.await("nothing after what was seen").during(quiet).atMost(quiet.plusSeconds(1)).pollInterval(POLL)
                .untilAsserted(() -> {
                    for (int i = 0; i < lists.length; i++) {
                        assertThat(lists[i]).as("arrivals").hasSize(seen[i]);
                    }
                });
    }
}
