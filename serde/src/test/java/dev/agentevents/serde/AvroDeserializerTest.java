package dev.agentevents.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Header checks happen before the registry is asked, so these need no registry. */
class AvroDeserializerTest {

    private final AvroDeserializer<?> deserializer =
            AvroDeserializer.generic(new SchemaRegistryClient("http://127.0.0.1:9"));

    @Test
    void shouldRejectWrongMagicByteNamingTheByteAndTopic() {
        assertThatThrownBy(() -> deserializer.deserialize("agent-events", new byte[] {0x7b, 0, 0, 0, 1, 2}))
                .isInstanceOfSatisfying(AvroDecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.BAD_MAGIC_BYTE))
                .hasMessage("value of 6 bytes in topic 'agent-events' starts with 0x7b: not the Confluent wire "
                        + "format (magic byte 0x00, 4-byte schema id, Avro)");
    }

    @Test
    void shouldRejectValueShorterThanTheHeader() {
        assertThatThrownBy(() -> deserializer.deserialize("agent-events", new byte[] {0, 0, 1}))
                .isInstanceOfSatisfying(AvroDecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.BAD_MAGIC_BYTE));
        assertThatThrownBy(() -> deserializer.deserialize("agent-events", new byte[0]))
                .hasMessage("empty value in topic 'agent-events': not the Confluent wire format");
    }

    @Test
    void shouldDecodeNullAsNull() {
        assertThat(deserializer.deserialize("agent-events", null)).isNull();
    }

    @Test
    void shouldReportUnreachableRegistryAsRetriable() {
        assertThatThrownBy(() -> deserializer.deserialize("agent-events", new byte[] {0, 0, 0, 0, 7, 2}))
                .isInstanceOfSatisfying(AvroDecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.REGISTRY_UNAVAILABLE);
                    assertThat(e.schemaId()).isEqualTo(7);
                })
                .hasMessageContaining("cannot fetch writer schema id 7");
    }
}
