package dev.agentevents.fanout;

import dev.agentevents.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the {@link Frame} of one record of {@code agent-events-ordered}, and only when someone is to be sent it: the
 * feed routes records by their key (the user), so a record of a user with no connection here is kept unread, and read
 * only if a resume asks for it. A record that cannot be read, or whose event belongs to another user than its key
 * names, is logged and counted ({@code fanout_frames_dropped_total{reason="undecodable"}}) and becomes a gap frame for
 * the key's user, so that user learns something is missing there and nobody else is shown it.
 */
final class FrameReader {

    private static final Logger LOG = LoggerFactory.getLogger(FrameReader.class);

    private final String topic;
    private final AvroDeserializer<GenericRecord> decoder;
    private final FanoutMetrics metrics;

    FrameReader(String topic, AvroDeserializer<GenericRecord> decoder, FanoutMetrics metrics) {
        this.topic = topic;
        this.decoder = decoder;
        this.metrics = metrics;
    }

    /** The user a record's key names (the router keys every record by user); null for a record with no key. */
    static String userOf(byte[] key) {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    /** The frame of the record {@code value} at {@code partition:offset}, keyed by {@code userId}. */
    Frame read(int partition, long offset, String userId, byte[] value) {
        try {
            if (value == null) {
                throw new IllegalArgumentException("the record has no value");
            }
            Frame frame = decoder.read(topic, value, (id, writer, in) -> Frame.of(partition, offset, writer, in));
            if (!frame.userId().equals(userId)) {
                throw new IllegalArgumentException("the record is keyed by user '" + userId + "' but its event is of"
                        + " user '" + frame.userId() + "'");
            }
            return frame;
        } catch (RuntimeException e) {
            LOG.error("record {}:{} of {} (user '{}') is not delivered: {}", partition, offset, topic, userId,
                    e.toString());
            metrics.dropped(FanoutMetrics.DropReason.UNDECODABLE, 1);
            return Frame.undecodable(partition, offset, userId);
        }
    }

    /** A record with no key cannot be routed to anyone: logged and counted, never delivered. */
    void unkeyed(int partition, long offset) {
        LOG.error("record {}:{} of {} has no key (the user it is for): not delivered", partition, offset, topic);
        metrics.dropped(FanoutMetrics.DropReason.UNDECODABLE, 1);
    }
}
