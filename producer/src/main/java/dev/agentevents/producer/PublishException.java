package dev.agentevents.producer;

import dev.agentevents.event.AgentEvent;

/**
 * An event Kafka did not acknowledge (broker unreachable past the delivery timeout, buffer full past
 * {@code PUBLISHER_MAX_BLOCK_MS}, serialization failure). The event is attached unchanged: pass this exception to
 * {@link AgentRun#resend} to send the same event (same id and seq) again; the router drops it if the first send
 * did arrive after all.
 */
public final class PublishException extends RuntimeException {

    private final transient AgentEvent event;

    public PublishException(AgentEvent event, Throwable cause) {
        super("event " + event.getEventId() + " (" + event.getType() + ", seq " + event.getSeq() + ") of run "
                + event.getRunId() + " of user " + event.getUserId() + " was not acknowledged: " + cause, cause);
        this.event = event;
    }

    public AgentEvent event() {
        return event;
    }
}
