package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.AvroTrust;
import dev.agentevents.schemas.NullableUnionWriter;
import dev.agentevents.schemas.WireFormat;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.serde.SchemaRegistryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A record for {@code agent-events-ordered} together with its event already in Avro binary ({@code eventAvro}, the
 * bytes its hash chain link was computed over; null for a gap), so that the event is encoded once per record, not
 * once for the chain and again for the topic.
 */
record OutgoingEvent(OrderedEvent record, byte[] eventAvro) {

    OutgoingEvent {
        if ((eventAvro == null) != (record.getEvent() == null)) {
            throw new IllegalArgumentException("an ordered record of kind " + record.getKind() + " with "
                    + (eventAvro == null ? "no event bytes" : "event bytes but no event"));
        }
    }

    /** A gap marker (or any record without an event). */
    static OutgoingEvent withoutEvent(OrderedEvent record) {
        return new OutgoingEvent(record, null);
    }

    /**
     * Writes {@link OutgoingEvent}s in the Confluent wire format with the {@link OrderedEvent} schema's id under
     * {@code <topic>-value} (registered on first use; {@link RouterApp} registers it before starting), byte for byte
     * what Avro writes for the record, with the {@code event} field's bytes copied from {@code eventAvro}.
     */
    static final class ValueSerializer implements Serializer<OutgoingEvent> {

        static {
            AvroTrust.ensure();
        }

        private static final Schema SCHEMA = OrderedEvent.getClassSchema();
        private static final int EVENT_FIELD = SCHEMA.getField("event").pos();
        private static final int EVENT_BRANCH = SCHEMA.getField("event").schema()
                .getIndexNamed(AgentEvent.getClassSchema().getFullName());

        private final SchemaRegistryClient registry;
        private final ConcurrentMap<String, Integer> idsByTopic = new ConcurrentHashMap<>();
        private final NullableUnionWriter<Object> writer = new SplicingWriter();

        ValueSerializer(SchemaRegistryClient registry) {
            this.registry = registry;
        }

        @Override
        public byte[] serialize(String topic, OutgoingEvent outgoing) {
            if (outgoing == null) {
                return null;
            }
            int id = idOf(topic);
            int eventBytes = outgoing.eventAvro() == null ? 0 : outgoing.eventAvro().length;
            ByteArrayOutputStream out = new ByteArrayOutputStream(WireFormat.HEADER_LENGTH + 320 + eventBytes);
            out.write(WireFormat.MAGIC_BYTE);
            out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            try {
                writer.write(outgoing, encoder);
                encoder.flush();
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot encode an OrderedEvent for topic '" + topic
                        + "' with schema id " + id + ": " + e.getMessage(), e);
            }
            return out.toByteArray();
        }

        private int idOf(String topic) {
            Integer id = idsByTopic.get(topic);
            if (id != null) {
                return id;
            }
            String subject = topic + "-value";
            try {
                id = registry.register(subject, SCHEMA);
            } catch (SchemaRegistryException e) {
                throw new SerializationException("cannot get a schema id for subject '" + subject + "' (topic '"
                        + topic + "'): " + e.getMessage(), e);
            }
            idsByTopic.put(topic, id);
            return id;
        }

        /** The writer for {@link OrderedEvent}, except that an outgoing event's {@code event} field is copied. */
        private static final class SplicingWriter extends NullableUnionWriter<Object> {

            SplicingWriter() {
                super(SCHEMA);
            }

            @Override
            protected void writeField(Object datum, Schema.Field field, Encoder out, Object state)
                    throws IOException {
                if (!(datum instanceof OutgoingEvent outgoing)) {
                    super.writeField(datum, field, out, state);
                } else if (field.pos() == EVENT_FIELD && outgoing.eventAvro() != null) {
                    out.writeIndex(EVENT_BRANCH);
                    out.writeFixed(outgoing.eventAvro());
                } else {
                    super.writeField(outgoing.record(), field, out, state);
                }
            }
        }
    }
}
