package dev.agentevents.fanout;

/**
 * What every new connection is sent first, whatever its transport: {@code welcome}, then what its resume position
 * calls for (a {@code reset} for a position that cannot be served, the missed frames from memory or Kafka), then
 * live frames; {@code moved} when the partition was handed over meanwhile.
 */
final class ConnectionStart {

    private final FanoutConfig config;
    private final SubscriberRegistry registry;
    private final CatchUpReader catchUp;
    private final FanoutMetrics metrics;

    ConnectionStart(FanoutConfig config, SubscriberRegistry registry, CatchUpReader catchUp, FanoutMetrics metrics) {
        this.config = config;
        this.registry = registry;
        this.catchUp = catchUp;
        this.metrics = metrics;
    }

    void begin(Subscriber subscriber, ResumePosition resume) {
        subscriber.onClosed(() -> registry.unregister(subscriber));
        String problem = null;
        if (resume != null && resume.problem() != null) {
            problem = resume.problem();
        } else if (resume != null && resume.partition() != subscriber.partition) {
            problem = "resume position " + resume.partition() + ":" + resume.offset() + " is not in partition "
                    + subscriber.partition + ", where your events are";
        }
        boolean resumed = resume != null && problem == null;
        // a connection without a position starts after what the node has read so far, and is told where: what
        // arrives between this look and the registration below is served from memory like a resume
        Long offset = resumed ? Long.valueOf(resume.offset()) : registry.livePosition(subscriber.partition);
        subscriber.control(Frame.welcome(subscriber.userId, subscriber.partition, config.nodeId(),
                ResumePosition.describe(resume), offset == null ? null : subscriber.partition + ":" + offset));
        if (problem != null) {
            subscriber.control(Frame.reset(problem));
            metrics.resumed(FanoutMetrics.ResumeSource.RESET);
        }
        SubscriberRegistry.Start start = registry.register(subscriber, offset);
        if (start instanceof SubscriberRegistry.NotOwned) {
            metrics.moved(FanoutMetrics.MoveCause.REBALANCE);
            subscriber.closeAfter(Frame.moved(null), Subscriber.MOVED, "moved");
        } else if (start instanceof SubscriberRegistry.FromKafka range) {
            catchUp.catchUp(subscriber, range);
        } else if (start instanceof SubscriberRegistry.Live live && resumed) {
            metrics.resumed(live.source());
        }
    }
}
