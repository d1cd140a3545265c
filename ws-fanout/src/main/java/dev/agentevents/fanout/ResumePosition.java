package dev.agentevents.fanout;

/**
 * A resume position a client sent ({@code ?resume=} or {@code Last-Event-ID}: {@code <partition>:<offset>}, the last
 * frame it processed), or why it could not be read.
 */
record ResumePosition(int partition, long offset, String problem) {

    /** The position in {@code text}; null when there is none. */
    static ResumePosition parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        int colon = text.indexOf(':');
        try {
            if (colon > 0) {
                int partition = Integer.parseInt(text.substring(0, colon).trim());
                long offset = Long.parseLong(text.substring(colon + 1).trim());
                if (partition >= 0 && offset >= -1) {
                    return new ResumePosition(partition, offset, null);
                }
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        return new ResumePosition(-1, -1, "resume position '" + (text.length() > 40 ? text.substring(0, 40) + "..."
                : text) + "' is not <partition>:<offset>; sending live events from now");
    }

    /** How the {@code welcome} frame reports it. */
    static String describe(ResumePosition resume) {
        return resume == null ? "none" : resume.problem() != null ? "invalid" : resume.partition() + ":"
                + resume.offset();
    }
}
