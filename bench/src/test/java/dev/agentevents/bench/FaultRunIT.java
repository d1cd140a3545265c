package dev.agentevents.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The short fault run: the multi-process local cluster under steady load; kill -9 a broker (the active controller),
 * a router and a fanout node in turn, restarting each, then the registry down for 30 s and all brokers down for
 * 30 s; then nothing acknowledged is lost, nothing is shown twice or out of order or to the wrong user, every run
 * ends, and the registry outage did not stop deliveries. The command exits 1 if any check fails.
 */
class FaultRunIT {

    @Test
    void shouldLoseNothingWhenProcessesAreKilledAndTheRegistryOrAllBrokersAreDown() {
        int code = new CommandLine(new BenchMain()).execute("faults", "--smoke", "--out",
                Path.of("target", "faults-smoke").toString());

        assertThat(code).as("every check of the fault audit passed (see the output for the table)").isZero();
    }
}
