package dev.agentevents.schemas;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Failed;
import dev.agentevents.event.Gap;
import dev.agentevents.event.MessageDelta;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.SourcePosition;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 reads and writes generated classes only from trusted packages. This adds exactly this project's
 * generated record classes to whatever the JVM already trusts, once, so the producer library, the applications
 * and tests work without {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES}. Every class here that hands generated
 * classes to Avro calls {@link #ensure()} first.
 */
public final class AvroTrust {

    private static boolean done;

    private AvroTrust() {
    }

    public static synchronized void ensure() {
        if (done) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate ours = ClassSecurityValidator.builder()
                .add(AgentEvent.class).add(AgentInfo.class).add(Thinking.class).add(ToolCall.class)
                .add(ToolResult.class).add(Completed.class).add(Failed.class).add(MessageDelta.class)
                .add(OrderedEvent.class).add(Gap.class).add(SourcePosition.class)
                .build();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
        done = true;
    }
}
