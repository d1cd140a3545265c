package dev.agentevents.router;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar streams-router/target/agent-events-router.jar}: runs one router instance configured from the
 * environment (see {@link RouterConfig}) until SIGTERM or Ctrl-C, then closes cleanly. Start several with the same
 * {@code ROUTER_APPLICATION_ID} and they share the partitions.
 */
public final class RouterMain {

    private RouterMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        RouterConfig config = RouterConfig.fromEnv(System.getenv());
        RouterApp app = RouterApp.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close(Duration.ofSeconds(30));
            stopped.countDown();
        }, "router-shutdown"));
        System.out.println("READY router http=" + app.httpPort());
        stopped.await();
    }
}
