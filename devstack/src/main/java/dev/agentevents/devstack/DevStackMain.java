package dev.agentevents.devstack;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar devstack/target/agent-events-devstack.jar}: the whole pipeline in one JVM with simulated agents
 * for the demo users; prints {@code READY http://127.0.0.1:8080/ http://127.0.0.1:8082/} when the demo page can be
 * opened; stops cleanly on Ctrl-C.
 */
@Command(name = "agent-events-devstack", mixinStandardHelpOptions = true,
        description = "Runs Kafka, the schema registry, the router, two fanout nodes and simulated agents in one JVM.")
public final class DevStackMain implements Callable<Integer> {

    @Option(names = "--data-dir", description = "keep everything here across restarts (default: a fresh temp dir)")
    Path dataDir;

    @Option(names = "--no-simulator", description = "do not play simulated agent runs")
    boolean noSimulator;

    @Option(names = "--no-warm-up", description = "say READY without first playing simulated runs through the pipeline "
            + "(faster start, slow first seconds; the warm-up's runs are not written to the topics)")
    boolean noWarmUp;

    @Option(names = "--users", description = "demo users: alice, bob, carol, then user-4 ... (default: ${DEFAULT-VALUE})")
    int users = 3;

    @Option(names = "--rate", description = "simulated events per second, all users together (default: ${DEFAULT-VALUE})")
    double rate = 4;

    @Option(names = "--port", description = "first fanout node (default: ${DEFAULT-VALUE})")
    int port = 8080;

    @Option(names = "--second-port", description = "second fanout node (default: ${DEFAULT-VALUE})")
    int secondPort = 8082;

    @Option(names = "--kafka-port", description = "Kafka (default: ${DEFAULT-VALUE})")
    int kafkaPort = 9092;

    @Option(names = "--registry-port", description = "schema registry (default: ${DEFAULT-VALUE})")
    int registryPort = 8081;

    @Option(names = "--router-port", description = "router /metrics and /health (default: ${DEFAULT-VALUE})")
    int routerPort = 8090;

    static List<String> demoUsers(int count) {
        if (count < 1) {
            throw new CommandLine.ParameterException(new CommandLine(new DevStackMain()),
                    "--users " + count + ": need at least one user");
        }
        List<String> names = new ArrayList<>(List.of("alice", "bob", "carol"));
        for (int i = 4; i <= count; i++) {
            names.add("user-" + i);
        }
        return names.subList(0, count);
    }

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        int[] step = {0};
        List<Integer> ports = List.of(port, secondPort);
        // Kafka and the registry, the router, each fanout node, the hand-out of partitions, the warm-up, the simulator
        int steps = 3 + ports.size() + (noWarmUp ? 0 : 1) + (noSimulator ? 0 : 1);
        DevStack stack = DevStack.start(new DevStack.Options(dataDir, kafkaPort, registryPort,
                ports, routerPort, !noWarmUp, !noSimulator, demoUsers(users), rate),
                message -> System.err.printf("[%d/%d %4.1fs] %s ...%n", ++step[0], steps,
                        (System.nanoTime() - t0) / 1e9, message));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("stopping ...");
            stack.close();
            System.err.println("stopped");
            stopped.countDown();
        }, "devstack-shutdown"));
        String pages = stack.fanoutNodes().stream().map(n -> n.httpUrl() + "/").collect(Collectors.joining(" "));
        System.err.printf("ready after %.1f s: Kafka %s, registry %s, router metrics http://127.0.0.1:%d/metrics%n",
                (System.nanoTime() - t0) / 1e9, stack.infrastructure().bootstrapServers(),
                stack.infrastructure().registryUrl(), stack.router().httpPort());
        System.err.println("open the demo page, sign in as " + String.join(", ", demoUsers(users))
                + (noSimulator ? "" : " and watch their agents' runs") + "; Ctrl-C stops everything");
        System.out.println("READY " + pages);
        System.out.flush();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        int code;
        try {
            code = new CommandLine(new DevStackMain()).execute(args);
        } catch (Error e) {
            e.printStackTrace();
            code = 1;
        }
        if (code != 0) {
            System.exit(code);
        }
    }
}
