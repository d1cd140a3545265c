package dev.agentevents.devstack;

import dev.agentevents.embedded.JavaProcess;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/local-cluster.sh}: the pipeline as separate JVM processes on loopback (3 brokers, the registry,
 * 2 routers, 2 fanout nodes by default); prints their addresses and PIDs, stops them all on Ctrl-C.
 */
@Command(name = "local-cluster", mixinStandardHelpOptions = true,
        description = "Runs brokers, the schema registry, routers and fanout nodes as separate processes.")
public final class LocalClusterMain implements Callable<Integer> {

    @Option(names = "--dir", description = "data and logs (default: ${DEFAULT-VALUE})")
    Path dir = Path.of("target", "local-cluster");

    @Option(names = "--brokers", description = "Kafka brokers (default: ${DEFAULT-VALUE})")
    int brokers = 3;

    @Option(names = "--routers", description = "router processes (default: ${DEFAULT-VALUE})")
    int routers = 2;

    @Option(names = "--fanouts", description = "fanout node processes (default: ${DEFAULT-VALUE})")
    int fanouts = 2;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        LocalCluster cluster = LocalCluster.start(new LocalCluster.Options(dir, brokers, routers, fanouts,
                dev.agentevents.schemas.Topics.DEFAULT_PARTITIONS, JavaProcess.C1_ONLY),
                step -> System.err.printf("[%5.1fs] %s ...%n", (System.nanoTime() - t0) / 1e9, step));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("stopping every process ...");
            cluster.close();
            System.err.println("stopped");
            stopped.countDown();
        }, "local-cluster-shutdown"));
        System.out.print(cluster.describe());
        System.out.println("READY kafka=" + cluster.bootstrapServers() + " registry=" + cluster.registryUrl()
                + " (logs under " + dir.toAbsolutePath() + "/logs)");
        System.out.flush();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new LocalClusterMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
