package dev.agentevents.producer;

/** Token usage and finish reason of a completed run; token counts may be null when unknown. */
public record Usage(Long inputTokens, Long outputTokens, String finishReason) {

    public static Usage unknown(String finishReason) {
        return new Usage(null, null, finishReason);
    }
}
