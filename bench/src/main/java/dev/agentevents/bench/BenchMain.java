package dev.agentevents.bench;

import dev.agentevents.bench.fanout.FanoutScenario;
import dev.agentevents.bench.faults.FaultReport;
import dev.agentevents.bench.faults.FaultRun;
import dev.agentevents.bench.pipeline.PipelineScenarios;
import dev.agentevents.bench.pipeline.RouterScenario;
import dev.agentevents.bench.scale.ScaleScenario;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.embedded.JavaProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar bench/target/agent-events-bench.jar <scenario>}: throughput, latency, router, fanout or scale;
 * each runs the baseline and the pipeline in the same invocation, alternating, and writes
 * {@code bench-results/<scenario>-<time>.json}, {@code .md} and {@code .html} (charts).
 */
@Command(name = "agent-events-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmarks the pipeline against bare Kafka and bare Vert.x, side by side.")
public final class BenchMain implements Callable<Integer> {

    @Parameters(index = "0", description = "throughput, latency, router, fanout, scale, or faults")
    String scenario;

    @Option(names = "--rounds", description = "rounds per side (default: 3; fanout 2, to stay under five minutes)")
    Integer rounds;

    @Option(names = "--seconds", description = "measured seconds per round (default: per scenario)")
    Double seconds;

    @Option(names = "--users", description = "users / WebSocket clients of the pipeline (default: ${DEFAULT-VALUE})")
    int users = 100;

    @Option(names = "--rates", split = ",", description = "latency: events/s (default: 1000,5000,20000)")
    List<Integer> rates = List.of(1000, 5000, 20000);

    @Option(names = "--configs", split = ",",
            description = "latency: eos:<commit ms> or alos:<commit ms>, each a run of every rate (default: eos:50; "
                    + "e.g. eos:20,eos:50,eos:100,alos:50 to sweep, 4 × as long)")
    List<String> configs = List.of("eos:50");

    @Option(names = "--connections", split = ",", description = "fanout: sockets (default: 1000,10000,19000)")
    List<Integer> connections = List.of(1000, 10_000, 19_000);

    @Option(names = "--fixed-rate", description = "fanout: also measure latency with each side fed this many "
            + "events/s (default: off; publish → frame latency is the latency scenario's)")
    int fixedRate;

    @Option(names = "--stream-threads", description = "throughput, latency: Kafka Streams threads of the router and of "
            + "the bare hop alike (default: ${DEFAULT-VALUE})")
    int streamThreads = 1;

    @Option(names = "--smoke", description = "a few seconds of everything: checks that the scenario runs")
    boolean smoke;

    @Option(names = "--long", description = "faults: 30 minutes, a fault every minute in turn (broker, router, fanout node, "
            + "rolling restart, registry outage, all brokers down)")
    boolean longMode;

    @Option(names = "--faults", split = ",", description = "faults: which, in turn (default: every one — "
            + "broker,router,fanout,rolling,registry,all-brokers)")
    List<String> faults = FaultRun.KINDS;

    @Option(names = "--keep-logs", description = "faults: keep the processes' logs even when every check passed")
    boolean keepLogs;

    @Option(names = "--out", description = "results directory (default: ${DEFAULT-VALUE})")
    Path out = Path.of("bench-results");

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        if (scenario.equals("faults")) {
            FaultRun.Settings settings;
            try {
                settings = new FaultRun.Settings(smoke ? 30 : users == 100 ? 200 : users, smoke ? 60 : 150, longMode,
                        30, smoke ? 4 : 12, smoke ? 12 : 30, smoke ? 6 : 20, keepLogs, faults);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--faults: " + e.getMessage());
            }
            FaultReport.Result result = new FaultRun(settings, System.err).run(out);
            System.out.println(result.markdown());
            System.err.printf("done in %.0f s; %s%n", (System.nanoTime() - t0) / 1e9,
                    result.passed() ? "every check passed" : "SOME CHECKS FAILED");
            return result.passed() ? 0 : 1;
        }
        System.err.println("starting the embedded broker and registry ...");
        try (EmbeddedStack stack = EmbeddedStack.start(EmbeddedStack.Options.defaults())) {
            BenchReport report = switch (scenario) {
                case "throughput" -> scenarios(stack, 15, 3).throughput(StreamsConfig.EXACTLY_ONCE_V2,
                        Duration.ofMillis(50));
                case "latency" -> scenarios(stack, 10, 0.5).latency(smoke ? List.of(1000) : rates,
                        smoke ? List.of("eos:50") : configs, smoke ? 2 : 10, !smoke);
                case "fanout" -> new FanoutScenario(stack, new PipelineScenarios.Settings(smoke ? 1 : rounds(2),
                        smoke ? 2 : seconds == null ? 2 : seconds, 1, 0, 12, 1), System.err)
                        .run(smoke ? List.of(200) : connections, smoke ? 2000 : fixedRate);
                case "router" -> new RouterScenario(stack, new PipelineScenarios.Settings(smoke ? 1 : rounds(3), 0, 0,
                        smoke ? 10 : users, 12, streamThreads), System.err).run(smoke ? 3000 : 200_000, !smoke);
                case "scale" -> new ScaleScenario(new PipelineScenarios.Settings(smoke ? 1 : rounds(3),
                        smoke ? 2 : seconds == null ? 3 : seconds, smoke ? 1 : 2, smoke ? 10 : users, 12, 1),
                        smoke ? 100 : 2000, smoke ? 1 : ScaleScenario.MAX_WARMUP_SECONDS,
                        // a smoke run only checks that it runs: its processes start fast (C1 only) rather than
                        // compile as in production
                        smoke ? JavaProcess.C1_ONLY : List.of(), System.err).run();
                default -> throw new CommandLine.ParameterException(new CommandLine(this),
                        "unknown scenario '" + scenario + "': use throughput, latency, router, fanout, scale or "
                                + "faults");
            };
            String markdown = report.write(out);
            System.out.println(markdown);
            System.err.printf("done in %.0f s; results in %s%n", (System.nanoTime() - t0) / 1e9, out.toAbsolutePath());
            return 0;
        }
    }

    private PipelineScenarios scenarios(EmbeddedStack stack, double defaultSeconds, double warmup)
            throws InterruptedException {
        return new PipelineScenarios(stack, new PipelineScenarios.Settings(smoke ? 1 : rounds(3),
                smoke ? 2 : seconds == null ? defaultSeconds : seconds, smoke ? 1 : warmup, smoke ? 10 : users, 12,
                streamThreads),
                System.err);
    }

    private int rounds(int scenarioDefault) {
        return rounds == null ? scenarioDefault : rounds;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }
}
