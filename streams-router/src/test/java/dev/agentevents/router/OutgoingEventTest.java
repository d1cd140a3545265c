package dev.agentevents.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.SourcePosition;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutgoingEventTest {

    private static final String TOPIC = "agent-events-ordered";
    private static final Instant ROUTED_AT = Instant.parse("2026-12-03T10:00:00.123Z");

    private final SchemaRegistryClient registry = new SchemaRegistryClient(EmbeddedStack.shared().registryUrl());

    @Test
    void shouldWriteExactlyWhatAvroWritesForTheRecordWithTheEventEncodedOnce() {
        TestRun run = new TestRun("user-ü", "run-1");
        List<AgentEvent> events = new ArrayList<>(run.complete());
        events.add(run.failed(6));
        events.add(AgentEvent.newBuilder(run.thinking(7)).setParentRunId("run-0").setTraceId(null).setSpanId(null)
                .setThinking(new Thinking("多字节 text — \u0000 and 😀")).build());
        AvroSerializer<OrderedEvent> avro = new AvroSerializer<>(registry, Map.of(), false);
        OutgoingEvent.ValueSerializer outgoing = new OutgoingEvent.ValueSerializer(registry);

        String prevHash = HashChain.GENESIS;
        int offset = 0;
        for (AgentEvent event : events) {
            byte[] eventAvro = HashChain.avroBinary(event);
            SourcePosition source = offset % 2 == 0 ? new SourcePosition("agent-events", 3, (long) offset) : null;
            OrderedEvent record = OrderedRecords.event(prevHash, event, eventAvro, ROUTED_AT, source);

            assertThat(outgoing.serialize(TOPIC, new OutgoingEvent(record, eventAvro)))
                    .as("%s (seq %d)", event.getType(), event.getSeq())
                    .isEqualTo(avro.serialize(TOPIC, record));
            assertThat(record).isEqualTo(OrderedRecords.event(prevHash, event, ROUTED_AT, source));
            prevHash = record.getHash();
            offset++;
        }
        OrderedEvent gap = OrderedRecords.gap(prevHash, run.userId, run.threadId, run.runId,
                new Gap(8L, 9L, 30_000L, "TIMEOUT"), ROUTED_AT);
        byte[] gapBytes = outgoing.serialize(TOPIC, OutgoingEvent.withoutEvent(gap));
        assertThat(gapBytes).isEqualTo(avro.serialize(TOPIC, gap));
        assertThat(AvroDeserializer.specific(registry, OrderedEvent.class).deserialize(TOPIC, gapBytes))
                .isEqualTo(gap);
        assertThat(outgoing.serialize(TOPIC, null)).isNull();
    }

    @Test
    void shouldRefuseEventBytesThatDoNotGoWithTheRecord() {
        TestRun run = new TestRun("user-1", "run-1");
        OrderedEvent event = OrderedRecords.event(HashChain.GENESIS, run.started(), ROUTED_AT, null);
        OrderedEvent gap = OrderedRecords.gap(HashChain.GENESIS, run.userId, run.threadId, run.runId,
                new Gap(0L, 0L, 0L, "TIMEOUT"), ROUTED_AT);

        assertThatThrownBy(() -> OutgoingEvent.withoutEvent(event)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind event with no event bytes");
        assertThatThrownBy(() -> new OutgoingEvent(gap, new byte[] {1})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind gap with event bytes but no event");
    }
}
