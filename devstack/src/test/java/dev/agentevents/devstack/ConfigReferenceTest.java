package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.config.Environment;
import dev.agentevents.embedded.RegistryConfig;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.replay.ReplayConfig;
import dev.agentevents.router.RouterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The configuration reference ({@code docs/configuration.md}) lists exactly the variables each config record reads:
 * a variable added, renamed or dropped in code without the reference (or the other way round) fails here.
 */
class ConfigReferenceTest {

    private static final Map<String, String> MINIMAL = Map.of(
            "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
            "SCHEMA_REGISTRY_URL", "http://registry:8081",
            "FANOUT_JWT_HS256_SECRET", "a-secret-long-enough-for-the-hs256-check-0123");

    private final String readme = Files.readString(Path.of("..", "docs", "configuration.md"));

    ConfigReferenceTest() throws Exception {
    }

    /** The backticked names in the first column of the table under heading {@code heading}. */
    private Set<String> documented(String heading) {
        int start = readme.indexOf("\n" + heading + "\n");
        assertThat(start).as("docs/configuration.md has a section '%s'", heading).isPositive();
        int end = readme.indexOf("\n#", start + heading.length() + 2);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        Set<String> names = new LinkedHashSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `([A-Z0-9_*]+)` \\|").matcher(section);
        while (row.find()) {
            names.add(row.group(1));
        }
        return names;
    }

    private static Set<String> read(Function<Environment, ?> reader) {
        Environment env = Environment.of(MINIMAL);
        reader.apply(env);
        return env.requested();
    }

    @Test
    void shouldDocumentExactlyThePublishersVariables() {
        assertThat(documented("## Publisher (the producer library and the simulator)"))
                .containsExactlyInAnyOrderElementsOf(read(PublisherConfig::from));
    }

    @Test
    void shouldDocumentExactlyTheRoutersVariables() {
        assertThat(documented("## Router")).containsExactlyInAnyOrderElementsOf(read(RouterConfig::from));
    }

    @Test
    void shouldDocumentExactlyTheFanoutNodesVariables() {
        assertThat(documented("## Fanout node")).containsExactlyInAnyOrderElementsOf(read(FanoutConfig::from));
    }

    @Test
    void shouldDocumentExactlyTheReplayToolsVariables() {
        assertThat(documented("## Replay")).containsExactlyInAnyOrderElementsOf(read(ReplayConfig::from));
    }

    @Test
    void shouldDocumentExactlyTheRegistrysVariables() {
        assertThat(documented("## Schema registry (embedded)"))
                .containsExactlyInAnyOrderElementsOf(read(RegistryConfig::from));
    }
}
