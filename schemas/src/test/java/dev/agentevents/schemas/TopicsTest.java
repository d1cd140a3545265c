package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void shouldPrefixEveryTopicWhenPrefixIsConfigured() {
        Topics topics = Topics.fromEnv(Map.of("AGENT_EVENTS_TOPIC_PREFIX", "staging."));

        assertThat(topics.all()).containsExactly("staging.agent-events", "staging.agent-events-ordered",
                "staging.agent-events-dlq");
        assertThat(Topics.valueSubject(topics.events())).isEqualTo("staging.agent-events-value");
    }

    @Test
    void shouldUseBareNamesWhenNoPrefixIsConfigured() {
        assertThat(Topics.fromEnv(Map.of()).all()).containsExactly("agent-events", "agent-events-ordered",
                "agent-events-dlq");
    }

    @Test
    void shouldNameTheBadPrefixWhenItHasIllegalCharacters() {
        assertThatThrownBy(() -> new Topics("prod/"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("topic prefix 'prod/' is not legal: use up to 200 of the characters a-z A-Z 0-9 . _ -");
    }

    @Test
    void shouldKnowTerminalEventTypes() {
        assertThat(EventType.fromWireName("agent_completed")).hasValueSatisfying(t -> assertThat(t.isTerminal()).isTrue());
        assertThat(EventType.fromWireName("agent_failed")).hasValueSatisfying(t -> assertThat(t.isTerminal()).isTrue());
        assertThat(EventType.fromWireName("tool_executing")).hasValueSatisfying(t -> assertThat(t.isTerminal()).isFalse());
        assertThat(EventType.fromWireName("agent_dreaming")).isEmpty();
        assertThat(EventType.fromWireName(null)).isEmpty();
    }
}
