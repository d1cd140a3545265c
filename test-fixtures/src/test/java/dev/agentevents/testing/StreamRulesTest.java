package dev.agentevents.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java rules hold every case of the protocol's shared test vectors (the browser client's tests run them too). */
class StreamRulesTest {

    @Test
    void shouldTurnEveryVectorsFramesIntoItsExpectedOutcomes() throws Exception {
        JsonNode vectors;
        try (InputStream in = StreamRules.class.getResourceAsStream("/protocol/stream-rules.json")) {
            vectors = new ObjectMapper().readTree(in);
        }
        assertThat(vectors.path("cases")).hasSizeGreaterThanOrEqualTo(10);
        for (JsonNode vector : vectors.path("cases")) {
            StreamRules rules = new StreamRules();
            if (vector.has("start")) {
                rules.startAfter(vector.path("start").asText());
            }
            List<String> outcomes = new ArrayList<>();
            vector.path("frames").forEach(frame -> outcomes.add(rules.apply(frame)));
            List<String> expected = new ArrayList<>();
            vector.path("expect").forEach(e -> expected.add(e.asText()));
            assertThat(outcomes).as(vector.path("name").asText()).containsExactlyElementsOf(expected);
            assertThat(rules.position()).as(vector.path("name").asText() + ": position")
                    .isEqualTo(vector.path("position").asText());
        }
    }
}
