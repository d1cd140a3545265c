package dev.agentevents.bench.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.HashChain;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class OrderedLoadTest {

    private static final AgentEvent TEMPLATE = AgentEvent.newBuilder().setEventId("e").setType("agent_thinking")
            .setUserId("x").setThreadId("t").setRunId("r").setSeq(0).setOccurredAt(Instant.EPOCH)
            .setAgent(AgentInfo.newBuilder().setId("a").setName("Agent").setVersion("1").build())
            .setThinking(new Thinking("thinking about it")).build();

    @Test
    void shouldStampEverySendWithTheTimeItIsSentForEachUserInTurn() throws Exception {
        OrderedLoad load = new OrderedLoad(TEMPLATE, "load-", 3, "ordered", HashChain::avroBinary);

        for (long n = 0; n < 7; n++) {
            long before = System.currentTimeMillis();
            ProducerRecord<byte[], byte[]> record = load.record(n);
            long after = System.currentTimeMillis();
            OrderedEvent ordered = decode(record.value());

            String user = "load-" + n % 3;
            assertThat(record.topic()).isEqualTo("ordered");
            assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(user);
            assertThat(ordered.getUserId()).isEqualTo(user);
            assertThat(ordered.getEvent().getUserId()).isEqualTo(user);
            assertThat(ordered.getEvent().getSeq()).isEqualTo(n % 3);
            assertThat(ordered.getEvent().getThinking().getText()).isEqualTo("thinking about it");
            assertThat(ordered.getEvent().getOccurredAt().toEpochMilli()).isBetween(before, after);
            Thread.sleep(3); // not a condition: the clock moves between records, each stamped with its own time
        }
    }

    private static OrderedEvent decode(byte[] bytes) throws Exception {
        return new SpecificDatumReader<>(OrderedEvent.class).read(null,
                DecoderFactory.get().binaryDecoder(bytes, null));
    }
}
