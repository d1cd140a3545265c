package dev.agentevents.producer;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -cp … dev.agentevents.producer.SimulatorMain --users 50 --rate 200 --duration 60}: plays simulated
 * agent runs into {@code agent-events}, configured like any publisher ({@code KAFKA_BOOTSTRAP_SERVERS},
 * {@code SCHEMA_REGISTRY_URL}, ...), printing progress every second on stderr.
 */
@Command(name = "agent-simulator", mixinStandardHelpOptions = true,
        description = "Publishes realistic simulated agent runs for N users at a given rate.")
public final class SimulatorMain implements Callable<Integer> {

    @Option(names = "--users", description = "number of users (default: ${DEFAULT-VALUE})")
    int users = 10;

    @Option(names = "--user-prefix", description = "user ids are <prefix>1..<prefix>N (default: ${DEFAULT-VALUE})")
    String userPrefix = "user-";

    @Option(names = "--rate", description = "events per second in total; 0 = as fast as possible (default: ${DEFAULT-VALUE})")
    double rate = 50;

    @Option(names = "--duration", description = "seconds to run; 0 = until stopped (default: ${DEFAULT-VALUE})")
    long durationSeconds = 0;

    @Option(names = "--failure-rate", description = "share of runs that fail (default: ${DEFAULT-VALUE})")
    double failureRate = 0.05;

    @Option(names = "--runs-per-user", description = "runs in progress per user (default: ${DEFAULT-VALUE})")
    int runsPerUser = 1;

    @Option(names = "--seed", description = "content seed (default: ${DEFAULT-VALUE})")
    long seed = 42;

    @Override
    public Integer call() throws Exception {
        PublisherConfig config = PublisherConfig.fromEnv(System.getenv());
        try (EventPublisher publisher = EventPublisher.create(config);
             AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(
                     AgentSimulator.Settings.users(userPrefix, users), rate, failureRate, runsPerUser, 0, seed),
                     new AgentSimulator.Listener() {
                         private final java.util.concurrent.atomic.AtomicInteger shown =
                                 new java.util.concurrent.atomic.AtomicInteger();

                         @Override
                         public void failed(Throwable error) {
                             if (shown.incrementAndGet() <= 5) {
                                 System.err.println("publish failed: " + error);
                             }
                         }
                     })) {
            simulator.start();
            long started = System.nanoTime();
            long lastAcked = 0;
            Runtime.getRuntime().addShutdownHook(new Thread(simulator::stop, "simulator-stop"));
            while (durationSeconds <= 0 || System.nanoTime() - started < Duration.ofSeconds(durationSeconds).toNanos()) {
                Thread.sleep(1000);
                AgentSimulator.Stats stats = simulator.stats();
                System.err.printf("sent %d, acknowledged %d (%d/s), failed %d; runs started %d, ended %d%n",
                        stats.sent(), stats.acknowledged(), stats.acknowledged() - lastAcked, stats.failed(),
                        stats.runsStarted(), stats.runsEnded());
                lastAcked = stats.acknowledged();
            }
            simulator.stop();
            publisher.flush();
            AgentSimulator.Stats stats = simulator.stats();
            System.err.printf("done: %d events acknowledged, %d failed, %d runs ended%n", stats.acknowledged(),
                    stats.failed(), stats.runsEnded());
            return stats.failed() == 0 ? 0 : 1;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SimulatorMain()).execute(args));
    }
}
