package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.serde.AvroDecodeException;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.time.Duration;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * An input record's value as decoded, together with its original bytes, which the router needs to send a
 * rejected record to the dead-letter topic unchanged. {@code event} is null for a value over
 * {@code ROUTER_MAX_EVENT_BYTES}, which is rejected without being decoded.
 */
record IncomingEvent(byte[] rawValue, AgentEvent event) {

    /**
     * Decodes {@code agent-events} values. Undecodable bytes throw, so that Kafka Streams' dead-letter queue
     * takes the record. When the registry cannot be reached for a schema not cached yet, it retries for up to
     * {@code registryRetry} before giving up (the stream thread then fails and is replaced, and the record is
     * read again): a registry outage delays records, it never sends good ones to the dead-letter topic.
     */
    static final class ValueDeserializer implements Deserializer<IncomingEvent> {

        private final AvroDeserializer<AgentEvent> avro;
        private final long retryNanos;
        private final int maxEventBytes;

        ValueDeserializer(SchemaRegistryClient registry, Duration registryRetry, int maxEventBytes) {
            this.avro = AvroDeserializer.specific(registry, AgentEvent.class);
            this.retryNanos = registryRetry.toNanos();
            this.maxEventBytes = maxEventBytes;
        }

        @Override
        public IncomingEvent deserialize(String topic, byte[] data) {
            if (data == null) {
                throw new AvroDecodeException(AvroDecodeException.Reason.BAD_MAGIC_BYTE, null,
                        "null value (tombstone) in topic '" + topic + "': an event is required", null);
            }
            if (data.length > maxEventBytes) {
                return new IncomingEvent(data, null);
            }
            long deadline = System.nanoTime() + retryNanos;
            long backoffMs = 50;
            while (true) {
                try {
                    return new IncomingEvent(data, avro.deserialize(topic, data));
                } catch (AvroDecodeException e) {
                    if (e.reason() != AvroDecodeException.Reason.REGISTRY_UNAVAILABLE || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AvroDecodeException(AvroDecodeException.Reason.REGISTRY_UNAVAILABLE, null,
                            "interrupted while waiting for the schema registry", e);
                }
                backoffMs = Math.min(1000, backoffMs * 2);
            }
        }
    }
}
