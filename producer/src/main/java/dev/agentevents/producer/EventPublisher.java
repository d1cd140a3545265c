package dev.agentevents.producer;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.serde.AvroSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way agent services publish lifecycle events to {@code agent-events}. Thread-safe; one per process.
 *
 * <p>{@link #startRun} publishes {@code agent_started} and returns the run's {@link AgentRun} handle, which
 * publishes the rest with one method per event type. The publisher assigns {@code eventId} and {@code seq}, keys
 * each event by its user, stamps {@code occurredAt} and a W3C {@code traceparent} header, and answers every event
 * with a future that completes when Kafka acknowledged it (idempotent producer, {@code acks=all}) or fails with a
 * {@link PublishException}. Nothing is only logged: every failure reaches a future or the caller.
 */
public final class EventPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);

    private final Producer<String, AgentEvent> producer;
    private final boolean ownsProducer;
    private final PublisherConfig config;
    private final Clock clock;

    private EventPublisher(Producer<String, AgentEvent> producer, boolean ownsProducer, PublisherConfig config,
                           Clock clock) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.ownsProducer = ownsProducer;
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A publisher with its own Kafka producer (closed by {@link #close}). */
    public static EventPublisher create(PublisherConfig config) {
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>();
        serializer.configure(config.registryConfig(), false);
        LOG.info("publishing to topic '{}' with {}", config.topics().events(), config);
        return new EventPublisher(new KafkaProducer<>(config.producerConfig(), new StringSerializer(), serializer),
                true, config, Clock.systemUTC());
    }

    /** A publisher on a producer the caller owns (tests pass Kafka's {@code MockProducer}). */
    public static EventPublisher using(Producer<String, AgentEvent> producer, PublisherConfig config, Clock clock) {
        return new EventPublisher(producer, false, config, clock);
    }

    /** Publishes {@code agent_started} (seq 0) for a new run and returns the handle for the rest of it. */
    public AgentRun startRun(RunStart start) {
        return AgentRun.start(this, start);
    }

    PublisherConfig config() {
        return config;
    }

    Clock clock() {
        return clock;
    }

    /** Sends one event, keyed by its user, with its traceparent; never throws for send failures. */
    CompletableFuture<Published> send(AgentEvent event) {
        RecordHeaders headers = new RecordHeaders();
        if (event.getTraceId() != null && event.getSpanId() != null) {
            headers.add("traceparent", ("00-" + event.getTraceId() + "-" + event.getSpanId() + "-01")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        ProducerRecord<String, AgentEvent> record = new ProducerRecord<>(config.topics().events(), null, null,
                event.getUserId(), event, headers);
        CompletableFuture<Published> future = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    future.completeExceptionally(new PublishException(event, error));
                } else {
                    future.complete(new Published(event.getEventId(), event.getUserId(), event.getRunId(),
                            event.getSeq(), event.getType(), metadata.partition(), metadata.offset()));
                }
            });
        } catch (RuntimeException e) {
            future.completeExceptionally(new PublishException(event, e));
        }
        return future;
    }

    /** Sends everything buffered and waits for the acknowledgements. */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        if (ownsProducer) {
            producer.close(Duration.ofSeconds(30));
        }
    }
}
