package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.schemas.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    private static final DeadLetters.Origin ORIGIN = new DeadLetters.Origin("agent-events", 3, 42);
    private static final int BUDGET = 64 * 1024;

    private static String header(DeadLetters.Letter letter, String name) {
        return DeadLetterHeaders.text(letter.headers(), name).orElse(null);
    }

    @Test
    void shouldKeepASmallRecordWholeWithItsSizesHashesAndReason() {
        byte[] key = "alice".getBytes(StandardCharsets.UTF_8);
        byte[] value = {0, 0, 0, 0, 1, 2, 3};
        RecordHeaders input = new RecordHeaders(List.of(new RecordHeader("traceparent", "00-ab-cd-01".getBytes(
                StandardCharsets.UTF_8))));
        DeadLetters.Letter letter = DeadLetters.build(key, value, input,
                DeadLetters.Cause.of(RejectReason.LATE, "seq 3 came late"), ORIGIN, 1234, BUDGET);

        assertThat(letter.key()).isEqualTo(key);
        assertThat(letter.value()).isEqualTo(value);
        assertThat(header(letter, DeadLetterHeaders.CODE)).isEqualTo("LATE");
        assertThat(header(letter, DeadLetterHeaders.MESSAGE)).isEqualTo("seq 3 came late");
        assertThat(header(letter, DeadLetterHeaders.TOPIC)).isEqualTo("agent-events");
        assertThat(header(letter, DeadLetterHeaders.PARTITION)).isEqualTo("3");
        assertThat(header(letter, DeadLetterHeaders.OFFSET)).isEqualTo("42");
        assertThat(header(letter, DeadLetterHeaders.TIME)).isEqualTo("1234");
        assertThat(header(letter, DeadLetterHeaders.KEY_SIZE)).isEqualTo("5");
        assertThat(header(letter, DeadLetterHeaders.VALUE_SIZE)).isEqualTo("7");
        assertThat(header(letter, DeadLetterHeaders.VALUE_SHA256)).isEqualTo(DeadLetters.sha256(value));
        assertThat(DeadLetters.sha256(new byte[0]))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isNull();
        assertThat(header(letter, "traceparent")).isEqualTo("00-ab-cd-01");
    }

    @Test
    void shouldStayWithinTheBudgetWhateverTheInput() {
        Random random = new Random(11);
        for (int i = 0; i < 200; i++) {
            byte[] key = random.nextInt(4) == 0 ? null : new byte[random.nextInt(700_000)];
            byte[] value = random.nextInt(4) == 0 ? null : new byte[random.nextInt(6_000_000)];
            RecordHeaders input = new RecordHeaders();
            for (int h = random.nextInt(30); h > 0; h--) {
                input.add("h" + h, new byte[random.nextInt(50_000)]);
            }
            String message = "m".repeat(random.nextInt(700_000));
            int budget = RouterLimits.MIN_DEAD_LETTER_BYTES + random.nextInt(1_000_000);
            DeadLetters.Letter letter = DeadLetters.build(key, value, input,
                    DeadLetters.Cause.of(RejectReason.KEY_USER_MISMATCH, message), ORIGIN, 1, budget);

            assertThat(letter.size()).as("letter %d of budget %d", i, budget).isLessThanOrEqualTo(budget);
            assertThat(header(letter, DeadLetterHeaders.KEY_SIZE)).isEqualTo(key == null ? "-1"
                    : Integer.toString(key.length));
            assertThat(header(letter, DeadLetterHeaders.VALUE_SIZE)).isEqualTo(value == null ? "-1"
                    : Integer.toString(value.length));
            assertThat(header(letter, DeadLetterHeaders.KEY_SHA256)).isEqualTo(key == null ? null
                    : DeadLetters.sha256(key));
            assertThat(header(letter, DeadLetterHeaders.MESSAGE).length())
                    .isLessThanOrEqualTo(DeadLetters.MAX_MESSAGE_CHARS);
        }
    }

    @Test
    void shouldTruncateKeyAndValueToPrefixesAndSayItDid() {
        byte[] key = new byte[600_000];
        byte[] value = new byte[5_000_000];
        new Random(2).nextBytes(value);
        DeadLetters.Letter letter = DeadLetters.build(key, value, null,
                DeadLetters.Cause.of(RejectReason.OVERSIZED, "too big"), ORIGIN, 1, BUDGET);

        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
        assertThat(letter.key().length).isPositive().isLessThan(BUDGET / 4 + 1);
        assertThat(letter.value().length).isPositive();
        assertThat(value).startsWith(letter.value());
        assertThat(header(letter, DeadLetterHeaders.VALUE_SHA256)).isEqualTo(DeadLetters.sha256(value));
    }

    @Test
    void shouldLeaveOutInputHeadersBeyondTheirShareAndTheInputsOwnErrorHeaders() {
        RecordHeaders input = new RecordHeaders();
        input.add("small", new byte[10]);
        input.add("huge", new byte[200_000]);
        input.add(DeadLetterHeaders.CODE, "FAKE".getBytes(StandardCharsets.UTF_8));
        DeadLetters.Letter letter = DeadLetters.build(new byte[1], new byte[1], input,
                DeadLetters.Cause.of(RejectReason.UNDECODABLE, "x"), ORIGIN, 1, BUDGET);

        assertThat(letter.headers().lastHeader("small")).isNotNull();
        assertThat(letter.headers().lastHeader("huge")).isNull();
        assertThat(header(letter, DeadLetterHeaders.HEADERS_DROPPED)).isEqualTo("2");
        assertThat(letter.headers().headers(DeadLetterHeaders.CODE)).extracting(Header::value)
                .containsExactly("UNDECODABLE".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldQuoteLongInputCappedWithItsLength() {
        assertThat(DeadLetters.quote("bob")).isEqualTo("'bob'");
        assertThat(DeadLetters.quote("x".repeat(600_000))).isEqualTo("'" + "x".repeat(64) + "…' (600000 characters)");
        assertThat(DeadLetters.quoteAll(List.of("a", "b", "c", "d", "e", "f", "g")))
                .isEqualTo("['a', 'b', 'c', 'd', 'e', … 2 more]");
        assertThat(DeadLetters.cap("ab\ud83d\ude80", 3)).isEqualTo("ab");
    }
}
