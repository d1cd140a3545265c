package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.event.AgentEvent;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

class HashChainTest {

    @Test
    void shouldGiveSameHashForSpecificAndGenericFormOfOneEvent() throws Exception {
        AgentEvent event = TestEvents.thinking("alice", "run-1", 1, "hmm");
        byte[] bytes = HashChain.avroBinary(event);
        GenericRecord generic = new GenericDatumReader<GenericRecord>(event.getSchema(), event.getSchema(),
                GenericData.get()).read(null, DecoderFactory.get().binaryDecoder(bytes, null));

        assertThat(HashChain.next(HashChain.GENESIS, "event", generic))
                .isEqualTo(HashChain.next(HashChain.GENESIS, "event", event))
                .hasSize(64);
    }

    @Test
    void shouldChangeHashWhenPayloadPreviousHashOrKindChanges() {
        AgentEvent event = TestEvents.thinking("alice", "run-1", 1, "hmm");
        AgentEvent tampered = TestEvents.thinking("alice", "run-1", 1, "hmm!");
        String first = HashChain.next(HashChain.GENESIS, "event", event);

        assertThat(HashChain.next(HashChain.GENESIS, "event", tampered)).isNotEqualTo(first);
        assertThat(HashChain.next(first, "event", event)).isNotEqualTo(first);
        assertThat(HashChain.next(HashChain.GENESIS, "gap", event)).isNotEqualTo(first);
    }

    @Test
    void shouldRejectPreviousHashThatIsNotThirtyTwoBytesOfHex() {
        AgentEvent event = TestEvents.thinking("alice", "run-1", 1, "hmm");

        assertThatThrownBy(() -> HashChain.next("abc", "event", event))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prevHash 'abc' is not hex");
        assertThatThrownBy(() -> HashChain.next("abcd", "event", event))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prevHash 'abcd' is not 32 bytes of hex");
    }
}
