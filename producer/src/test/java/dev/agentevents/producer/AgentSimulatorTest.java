package dev.agentevents.producer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.EventType;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class AgentSimulatorTest {

    @Test
    void shouldPlayCompleteWellFormedRunsForEveryUser() throws Exception {
        MockProducer<String, AgentEvent> producer = new MockProducer<>(true, null, new StringSerializer(),
                (topic, event) -> new byte[0]);
        EventPublisher publisher = EventPublisher.using(producer,
                PublisherConfig.of("kafka:9092", "http://registry:8081"), Clock.systemUTC());
        List<String> users = AgentSimulator.Settings.users("u", 5);
        AgentSimulator simulator = new AgentSimulator(publisher,
                new AgentSimulator.Settings(users, 0, 0.2, 2, 60, 7), new AgentSimulator.Listener() { });

        simulator.start();
        assertThat(simulator.awaitFinished(Duration.ofSeconds(30))).isTrue();

        Map<String, List<AgentEvent>> runs = producer.history().stream().map(ProducerRecord::value)
                .collect(Collectors.groupingBy(AgentEvent::getRunId));
        assertThat(runs).hasSize(60);
        assertThat(simulator.stats().runsEnded()).isEqualTo(60);
        assertThat(simulator.stats().failed()).isZero();
        assertThat(simulator.stats().acknowledged()).isEqualTo(producer.history().size());
        Map<String, Long> terminals = new HashMap<>();
        for (List<AgentEvent> run : runs.values()) {
            assertThat(run).extracting(AgentEvent::getSeq)
                    .containsExactlyElementsOf(java.util.stream.LongStream.range(0, run.size()).boxed().toList());
            assertThat(run.get(0).getType()).isEqualTo("agent_started");
            String last = run.get(run.size() - 1).getType();
            assertThat(EventType.fromWireName(last).orElseThrow().isTerminal()).isTrue();
            terminals.merge(last, 1L, Long::sum);
            assertThat(users).contains(run.get(0).getUserId());
            assertThat(run.stream().filter(e -> e.getType().equals("tool_executing")).count())
                    .isGreaterThanOrEqualTo(run.stream().filter(e -> e.getType().equals("tool_completed")).count());
        }
        assertThat(terminals).containsKeys("agent_completed", "agent_failed");
        assertThat(producer.history()).anyMatch(r -> r.value().getType().equals("agent_message_delta"));
        assertThat(producer.history()).anyMatch(r -> r.value().getToolResult() != null
                && r.value().getToolResult().getIsError());
    }

    @Test
    void shouldKeepToTheConfiguredRate() throws Exception {
        MockProducer<String, AgentEvent> producer = new MockProducer<>(true, null, new StringSerializer(),
                (topic, event) -> new byte[0]);
        EventPublisher publisher = EventPublisher.using(producer,
                PublisherConfig.of("kafka:9092", "http://registry:8081"), Clock.systemUTC());
        AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(
                List.of("a", "b"), 100, 0, 1, 0, 1), new AgentSimulator.Listener() { }).start();

        Thread.sleep(1_000); // not a condition: the simulator runs for one second
        simulator.stop();

        // 100 events/s for about a second: far from the thousands an unpaced loop sends
        assertThat(simulator.stats().sent()).isBetween(30L, 200L);
    }
}
