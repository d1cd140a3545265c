package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Python publisher's pytest suite ({@code producer-python/tests}), run by the build against the packaged devstack
 * jar, with Debian's {@code /usr/bin/python3} (the interpreter that sees {@code python3-confluent-kafka},
 * {@code python3-avro}, {@code python3-requests} and {@code python3-pytest}, which {@code scripts/test.sh} installs).
 */
@Tag("slow")
class PythonPublisherIT {

    @Test
    void shouldPassThePythonPublishersTestsAgainstTheRealPipeline() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        ProcessBuilder builder = new ProcessBuilder("/usr/bin/python3", "-m", "pytest", "-v", "-p", "no:cacheprovider",
                "producer-python").directory(repo.toFile()).redirectErrorStream(true);
        builder.environment().put("AGENT_EVENTS_DEVSTACK_JAR",
                Path.of("target", "agent-events-devstack.jar").toAbsolutePath().toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":"
                + System.getenv("PATH"));
        Process pytest = builder.start();
        List<String> output = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(pytest.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                System.out.println("[pytest] " + line);
                output.add(line);
            }
        }
        assertThat(pytest.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(pytest.exitValue()).as("pytest's exit code; its output:%n%s", String.join("\n", output))
                .isZero();
        assertThat(output).anyMatch(line -> line.matches(".*\\b\\d+ passed\\b.*"));
    }
}
