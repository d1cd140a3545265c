package dev.agentevents.router;

import java.util.Locale;
import org.apache.kafka.streams.KafkaStreams;

/** What the router answers on {@code /health}: ready (200) only while Kafka Streams is {@code RUNNING}. */
final class RouterHealth {

    private RouterHealth() {
    }

    /**
     * Ready once every task it was given is restored and processing: while it rebalances (restoring state, or
     * waiting for another instance to hand tasks over) a deploy must not stop the next instance.
     *
     * @param behindMs how far behind the wall clock the least-read input partition is; negative before the first look
     */
    static OpsServer.Health of(KafkaStreams.State state, int activeTasks, long behindMs) {
        boolean ready = state == KafkaStreams.State.RUNNING;
        return new OpsServer.Health(ready, "{\"status\":\"" + (ready ? "UP" : "DOWN") + "\",\"streams\":\"" + state
                + "\",\"activeTasks\":" + activeTasks + ",\"inputBehindSeconds\":"
                + (behindMs < 0 ? "null" : String.format(Locale.ROOT, "%.1f", behindMs / 1000.0)) + "}");
    }
}
