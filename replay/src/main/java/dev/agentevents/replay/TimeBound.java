package dev.agentevents.replay;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --from} and {@code --to}: an ISO-8601 instant ({@code 2026-11-21T10:00:00Z}, or with an offset), {@code now},
 * or a time relative to now ({@code -2h}, {@code -30m}, {@code -7d}, {@code -45s}, {@code -1h30m}).
 */
final class TimeBound {

    private static final Pattern RELATIVE = Pattern.compile("-((\\d+)d)?((\\d+)h)?((\\d+)m)?((\\d+)s)?");

    private TimeBound() {
    }

    static Instant parse(String text, Clock clock) {
        String value = text.trim();
        if (value.equalsIgnoreCase("now")) {
            return clock.instant();
        }
        Matcher relative = RELATIVE.matcher(value);
        if (relative.matches() && value.length() > 1) {
            Duration ago = Duration.ofDays(number(relative.group(2))).plusHours(number(relative.group(4)))
                    .plusMinutes(number(relative.group(6))).plusSeconds(number(relative.group(8)));
            return clock.instant().minus(ago);
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException notInstant) {
            try {
                return OffsetDateTime.parse(value).toInstant();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is not a time: use an ISO-8601 instant such as "
                        + "2026-11-21T10:00:00Z (or with an offset, +01:00), 'now', or a time ago such as -2h, -30m, "
                        + "-7d, -1h30m");
            }
        }
    }

    private static long number(String digits) {
        return digits == null ? 0 : Long.parseLong(digits);
    }
}
