package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.AvroTrust;
import dev.agentevents.schemas.HashChain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * An event that arrived before its turn, held in the {@code pending} store until the seqs before it are emitted:
 * where it was read, its original key and value bytes (for the dead-letter topic, should it be rejected when its
 * turn comes), and the decoded event in Avro binary (so releasing it never needs the registry).
 */
record PendingEvent(int partition, long offset, long timestamp, byte[] rawKey, byte[] rawValue, AgentEvent event) {

    static {
        AvroTrust.ensure();
    }

    private static final SpecificDatumReader<AgentEvent> READER = new SpecificDatumReader<>(AgentEvent.class);

    byte[] encode() {
        byte[] eventBytes = HashChain.avroBinary(event);
        ByteBuffer buffer = ByteBuffer.allocate(4 + 8 + 8 + 12 + lengthOf(rawKey) + rawValue.length + eventBytes.length);
        buffer.putInt(partition).putLong(offset).putLong(timestamp);
        put(buffer, rawKey);
        put(buffer, rawValue);
        put(buffer, eventBytes);
        return buffer.array();
    }

    static PendingEvent decode(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        int partition = buffer.getInt();
        long offset = buffer.getLong();
        long timestamp = buffer.getLong();
        byte[] rawKey = take(buffer);
        byte[] rawValue = take(buffer);
        byte[] eventBytes = take(buffer);
        try {
            AgentEvent event = READER.read(null, DecoderFactory.get().binaryDecoder(eventBytes, null));
            return new PendingEvent(partition, offset, timestamp, rawKey, rawValue, event);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable pending event", e);
        }
    }

    private static int lengthOf(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static void put(ByteBuffer buffer, byte[] bytes) {
        if (bytes == null) {
            buffer.putInt(-1);
        } else {
            buffer.putInt(bytes.length).put(bytes);
        }
    }

    private static byte[] take(ByteBuffer buffer) {
        int length = buffer.getInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }
}
