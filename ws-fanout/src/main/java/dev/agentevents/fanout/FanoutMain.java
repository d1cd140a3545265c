package dev.agentevents.fanout;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar ws-fanout/target/agent-events-fanout.jar}: one fanout node configured from the environment (see
 * {@link FanoutConfig}), until SIGTERM or Ctrl-C; then every client is told {@code moved} and the node leaves.
 */
public final class FanoutMain {

    private FanoutMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        FanoutNode node = FanoutNode.start(FanoutConfig.fromEnv(System.getenv()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "fanout-shutdown"));
        System.out.println("READY fanout " + node.httpUrl() + "/ ws=" + node.webSocketUrl());
        stopped.await();
    }
}
