package dev.agentevents.bench.faults;

import dev.agentevents.bench.BenchMain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The short fault run: the multi-process local cluster under steady load; kill -9 a broker (the active controller),
 * a router and a fanout node in turn, restarting each, a rolling restart of every router and fanout node, then the
 * registry down for 12 s and all brokers down for 12 s; then nothing acknowledged is lost, nothing is shown twice or out of order or to the wrong user, every run
 * ends, and the registry outage did not stop deliveries. The command exits 1 if any check fails.
 */
@Tag("slow")
class FaultRunIT {

    @Test
    void shouldLoseNothingWhenProcessesAreKilledOrRestartedAndTheRegistryOrAllBrokersAreDown() {
        int code = new CommandLine(new BenchMain()).execute("faults", "--smoke", "--out",
                Path.of("target", "faults-smoke").toString());

        assertThat(code).as("every check of the fault audit passed (see the output for the table)").isZero();
    }
}
