package dev.agentevents.serde;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link AvroSerializer} and {@link AvroDeserializer} as one Kafka {@link Serde} of a generated record class, in
 * the Confluent wire format. {@link #configure} takes the serializer's and deserializer's configs together.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;

    private AvroSerde(AvroSerializer<T> serializer, AvroDeserializer<T> deserializer) {
        this.serializer = serializer;
        this.deserializer = deserializer;
    }

    /** A serde of {@code type}, to be configured with at least {@value SchemaRegistryClient#URL_CONFIG}. */
    public static <T extends SpecificRecord> AvroSerde<T> specific(Class<T> type) {
        return new AvroSerde<>(new AvroSerializer<T>(), AvroDeserializer.specific(type));
    }

    /** A configured serde of {@code type} sharing one registry client. */
    public static <T extends SpecificRecord> AvroSerde<T> specific(Class<T> type, SchemaRegistryClient registry,
                                                                   Map<String, ?> configs, boolean isKey) {
        return new AvroSerde<>(new AvroSerializer<T>(registry, configs, isKey),
                AvroDeserializer.specific(registry, type));
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.configure(configs, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
