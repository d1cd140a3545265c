package dev.agentevents.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * A few seconds of each scenario, so CI knows they run and produce sane, non-zero numbers. Speed itself is judged
 * in the full runs (README, Performance), never here.
 */
@Tag("slow")
class BenchSmokeIT {

    @ParameterizedTest
    @ValueSource(strings = {"throughput", "latency", "router", "fanout", "scale"})
    void shouldProduceNonZeroResultsAndEveryFile(String scenario) throws Exception {
        Path out = Path.of("target", "bench-smoke", scenario);

        int code = new CommandLine(new BenchMain()).execute(scenario, "--smoke", "--out", out.toString());

        assertThat(code).isZero();
        File[] files = out.toFile().listFiles();
        assertThat(files).isNotNull();
        assertThat(Arrays.stream(files).map(File::getName))
                .anyMatch(n -> n.endsWith(".json")).anyMatch(n -> n.endsWith(".md")).anyMatch(n -> n.endsWith(".html"))
                .anyMatch(n -> n.endsWith("-latency.svg"));
        Path json = Arrays.stream(files).filter(f -> f.getName().endsWith(".json")).findFirst().orElseThrow().toPath();
        JsonNode results = new ObjectMapper().readTree(Files.readString(json));
        assertThat(results.path("series")).isNotEmpty();
        for (JsonNode series : results.path("series")) {
            assertThat(series.path("median").path("eventsPerSecond").asDouble()).as(series.path("name").asText())
                    .isPositive();
            if (scenario.equals("router")) {
                // drains measure rates, not latency
                assertThat(series.path("median").path("p99Ms").asText()).isEqualTo("NaN");
                continue;
            }
            // whole milliseconds: a bare server on loopback may deliver every frame within the same one (0 ms)
            assertThat(series.path("median").path("p99Ms").asDouble()).as(series.path("name").asText())
                    .isNotNegative().isLessThan(60_000);
        }
        try (Stream<Path> html = Files.list(out).filter(p -> p.toString().endsWith(".html"))) {
            assertThat(Files.readString(html.findFirst().orElseThrow())).contains("<svg").contains("<polyline");
        }
    }
}
