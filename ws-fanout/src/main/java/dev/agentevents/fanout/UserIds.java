package dev.agentevents.fanout;

import java.nio.charset.StandardCharsets;

/**
 * Which token subjects can be user ids: well-formed Unicode (no lone surrogate, which UTF-8 would turn into another
 * user's key bytes), no control or format characters, at most the router's id limit in UTF-8 bytes. Because such an
 * id and its key bytes map one to one, the live path (decoded {@code userId}), the recent buffer and catch-up (key
 * bytes) all select exactly the same records.
 */
final class UserIds {

    private UserIds() {
    }

    /** Why {@code sub} cannot be a user id, or null when it can. */
    static String problem(String sub, int maxBytes) {
        if (sub == null || sub.isBlank()) {
            return "token has no sub";
        }
        for (int i = 0; i < sub.length(); i++) {
            char c = sub.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < sub.length() && Character.isLowSurrogate(sub.charAt(i + 1))) {
                i++;
                continue;
            }
            if (Character.isSurrogate(c)) {
                return "token sub is not well-formed Unicode (a lone surrogate at index " + i + ")";
            }
            int type = Character.getType(c);
            if (type == Character.CONTROL || type == Character.FORMAT) {
                return "token sub holds a control or format character (U+" + String.format("%04X", (int) c)
                        + " at index " + i + ")";
            }
        }
        int bytes = sub.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            return "token sub has " + bytes + " bytes (UTF-8); user ids have at most " + maxBytes;
        }
        return null;
    }
}
