package dev.agentevents.serde;

import dev.agentevents.schemas.AvroTrust;
import dev.agentevents.schemas.WireFormat;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer for Avro in the Confluent wire format (see {@link AvroSerializer}). The writer schema is
 * fetched by the id in the header (and cached), so records written with any registered schema version decode.
 *
 * <p>Generic by default: a {@code GenericRecord} in the writer's schema. Specific when built with
 * {@link #specific(Class)} or configured with {@value #SPECIFIC_READER_CONFIG}{@code =true} (the class is then
 * {@value #SPECIFIC_VALUE_TYPE_CONFIG} / {@value #SPECIFIC_KEY_TYPE_CONFIG}, or the generated class named like the
 * writer schema): the writer's data resolved into the class's schema, so older and newer writers both read.
 * Every failure is an {@link AvroDecodeException} with a reason; a null value (tombstone) decodes to null.
 */
public final class AvroDeserializer<T> implements Deserializer<T> {

    static {
        AvroTrust.ensure();
    }

    public static final String SPECIFIC_READER_CONFIG = "specific.avro.reader";
    public static final String SPECIFIC_VALUE_TYPE_CONFIG = "specific.avro.value.type";
    public static final String SPECIFIC_KEY_TYPE_CONFIG = "specific.avro.key.type";

    private SchemaRegistryClient registry;
    private boolean specific;
    private Class<?> readerClass;
    private final ConcurrentMap<Integer, DatumReader<Object>> readers = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroDeserializer() {
    }

    private AvroDeserializer(SchemaRegistryClient registry, Class<?> readerClass, boolean specific) {
        this.registry = registry;
        this.readerClass = readerClass;
        this.specific = specific;
    }

    /** A deserializer into {@code type}, a generated class, using {@code registry}. */
    public static <T extends SpecificRecord> AvroDeserializer<T> specific(SchemaRegistryClient registry,
                                                                          Class<T> type) {
        return new AvroDeserializer<>(Objects.requireNonNull(registry, "registry"), type, true);
    }

    /** A deserializer into {@code type}, configured later by {@link #configure}. */
    public static <T extends SpecificRecord> AvroDeserializer<T> specific(Class<T> type) {
        return new AvroDeserializer<>(null, type, true);
    }

    /** A deserializer into generic records in the writer's schema, using {@code registry}. */
    public static AvroDeserializer<org.apache.avro.generic.GenericRecord> generic(SchemaRegistryClient registry) {
        return new AvroDeserializer<>(Objects.requireNonNull(registry, "registry"), null, false);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.registry = SchemaRegistryClient.fromConfig(configs);
        if (readerClass == null) {
            this.specific = AvroSerializer.flag(configs, SPECIFIC_READER_CONFIG, false);
            Object type = configs.get(isKey ? SPECIFIC_KEY_TYPE_CONFIG : SPECIFIC_VALUE_TYPE_CONFIG);
            if (type instanceof Class<?> cls) {
                this.readerClass = cls;
                this.specific = true;
            } else if (type != null) {
                try {
                    this.readerClass = Class.forName(type.toString().trim());
                    this.specific = true;
                } catch (ClassNotFoundException e) {
                    throw new IllegalArgumentException((isKey ? SPECIFIC_KEY_TYPE_CONFIG : SPECIFIC_VALUE_TYPE_CONFIG)
                            + " '" + type + "' is not a class on the classpath", e);
                }
            }
        }
    }

    /** The client this deserializer fetches writer schemas with. */
    public SchemaRegistryClient registry() {
        return registry;
    }

    /** How a value is read once its writer schema is known: {@link #read}'s caller decides what to make of it. */
    @FunctionalInterface
    public interface Reading<R> {
        R read(int schemaId, Schema writer, Decoder in) throws IOException;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        return (T) read(topic, data, (id, writer, in) -> reader(id, writer).read(null, in));
    }

    /**
     * Reads {@code data} (the Confluent wire format) with {@code reading}, given the writer schema named by its
     * header: the same checks and the same {@link AvroDecodeException}s as {@link #deserialize}, including bytes
     * left over after the value, for callers that turn Avro into something other than records (the fanout node
     * writes it straight to JSON).
     */
    public <R> R read(String topic, byte[] data, Reading<R> reading) {
        if (registry == null) {
            throw new IllegalStateException("AvroDeserializer used before configure()");
        }
        if (data.length < WireFormat.HEADER_LENGTH || data[0] != WireFormat.MAGIC_BYTE) {
            throw new AvroDecodeException(AvroDecodeException.Reason.BAD_MAGIC_BYTE, null, data.length == 0
                    ? "empty value in topic '" + topic + "': not the Confluent wire format"
                    : String.format("value of %d bytes in topic '%s' starts with 0x%02x: not the Confluent wire "
                            + "format (magic byte 0x00, 4-byte schema id, Avro)", data.length, topic, data[0]), null);
        }
        int id = ByteBuffer.wrap(data, 1, 4).getInt();
        Schema writer = writer(topic, id);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_LENGTH,
                data.length - WireFormat.HEADER_LENGTH, null);
        try {
            R value = reading.read(id, writer, decoder);
            if (!decoder.isEnd()) {
                throw new AvroDecodeException(AvroDecodeException.Reason.MALFORMED_AVRO, id, "value in topic '" + topic
                        + "' has bytes left over after the record written with schema id " + id, null);
            }
            return value;
        } catch (EOFException e) {
            throw new AvroDecodeException(AvroDecodeException.Reason.MALFORMED_AVRO, id, "value in topic '" + topic
                    + "' is truncated: it ends inside the record written with schema id " + id, e);
        } catch (IOException | AvroRuntimeException | ClassCastException | IndexOutOfBoundsException
                 | NegativeArraySizeException | OutOfMemoryError e) {
            throw new AvroDecodeException(AvroDecodeException.Reason.MALFORMED_AVRO, id, "value in topic '" + topic
                    + "' is not valid Avro for schema id " + id + ": " + e, e);
        }
    }

    private Schema writer(String topic, int id) {
        try {
            return registry.schemaById(id);
        } catch (SchemaRegistryException e) {
            if (e.isRetriable()) {
                throw new AvroDecodeException(AvroDecodeException.Reason.REGISTRY_UNAVAILABLE, id,
                        "cannot fetch writer schema id " + id + " for a value in topic '" + topic + "': "
                                + e.getMessage(), e);
            }
            throw new AvroDecodeException(AvroDecodeException.Reason.UNKNOWN_SCHEMA_ID, id, "value in topic '" + topic
                    + "' names schema id " + id + ", which the registry does not know: " + e.getMessage(), e);
        }
    }

    private DatumReader<Object> reader(int id, Schema writer) {
        DatumReader<Object> cached = readers.get(id);
        if (cached != null) {
            return cached;
        }
        DatumReader<Object> reader = specific ? specificReader(writer) : new GenericDatumReader<>(writer, writer,
                GenericData.get());
        DatumReader<Object> previous = readers.putIfAbsent(id, reader);
        return previous != null ? previous : reader;
    }

    private DatumReader<Object> specificReader(Schema writer) {
        SpecificData data = readerClass != null ? SpecificData.getForClass(readerClass) : SpecificData.get();
        Schema readerSchema = readerClass != null ? data.getSchema(readerClass) : null;
        if (readerSchema == null) {
            Class<?> generated = data.getClass(writer);
            if (generated == null || generated == Object.class) {
                throw new AvroDecodeException(AvroDecodeException.Reason.UNKNOWN_SCHEMA_ID, null,
                        "no generated class named " + writer.getFullName() + " for specific reading", null);
            }
            readerSchema = data.getSchema(generated);
        }
        return new SpecificDatumReader<>(writer, readerSchema, data);
    }
}
