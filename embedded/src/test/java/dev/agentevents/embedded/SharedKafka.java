package dev.agentevents.embedded;

/** One in-process broker for every test of this JVM that does not need its own; stopped when the JVM exits. */
final class SharedKafka {

    private static EmbeddedKafka kafka;

    private SharedKafka() {
    }

    static synchronized EmbeddedKafka get() {
        if (kafka == null) {
            kafka = EmbeddedKafka.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "shared-kafka-shutdown"));
        }
        return kafka;
    }
}
