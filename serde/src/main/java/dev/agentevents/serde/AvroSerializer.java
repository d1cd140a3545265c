package dev.agentevents.serde;

import dev.agentevents.schemas.AvroTrust;
import dev.agentevents.schemas.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serializer for Avro records in the Confluent wire format: magic byte {@code 0}, the schema's registry id
 * as 4 bytes big-endian, then the Avro binary encoding. Subjects follow TopicNameStrategy
 * ({@code <topic>-value}, {@code <topic>-key}).
 *
 * <p>Configs (Confluent's names): {@value SchemaRegistryClient#URL_CONFIG} (required),
 * {@value #AUTO_REGISTER_CONFIG} (default true: register the record's schema; false: look it up and fail if
 * absent), {@value #USE_LATEST_VERSION_CONFIG} (default false: write with the subject's latest registered schema
 * instead of the record's own, converting the record by Avro schema resolution), {@value #LATEST_TTL_CONFIG}
 * (seconds the latest version is cached; -1, the default, caches it for the serializer's life). Ids are cached, so
 * the registry is asked once per schema and subject.
 */
public final class AvroSerializer<T extends GenericContainer> implements Serializer<T> {

    static {
        AvroTrust.ensure();
    }

    public static final String AUTO_REGISTER_CONFIG = "auto.register.schemas";
    public static final String USE_LATEST_VERSION_CONFIG = "use.latest.version";
    public static final String LATEST_TTL_CONFIG = "latest.cache.ttl.sec";

    private SchemaRegistryClient registry;
    private boolean isKey;
    private boolean autoRegister = true;
    private boolean useLatestVersion;
    private long latestTtlMillis = -1;
    private final ConcurrentMap<WriterKey, DatumWriter<Object>> writers = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Latest> latestBySubject = new ConcurrentHashMap<>();

    private record Latest(RegisteredSchema schema, long fetchedAtMillis) {
    }

    /** Specific and generic records of one schema differ in their logical-type values (Instant vs long). */
    private record WriterKey(Schema schema, boolean specific) {
    }

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroSerializer() {
    }

    /** A configured serializer on an existing client; {@code configs} as for {@link #configure}, URL not needed. */
    public AvroSerializer(SchemaRegistryClient registry, Map<String, ?> configs, boolean isKey) {
        this.registry = registry;
        applyConfigs(configs, isKey);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.registry = SchemaRegistryClient.fromConfig(configs);
        applyConfigs(configs, isKey);
    }

    private void applyConfigs(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        this.autoRegister = flag(configs, AUTO_REGISTER_CONFIG, true);
        this.useLatestVersion = flag(configs, USE_LATEST_VERSION_CONFIG, false);
        Object ttl = configs.get(LATEST_TTL_CONFIG);
        this.latestTtlMillis = ttl == null ? -1 : Long.parseLong(ttl.toString().trim()) * 1000;
    }

    static boolean flag(Map<String, ?> configs, String name, boolean defaultValue) {
        Object value = configs.get(name);
        if (value == null) {
            return defaultValue;
        }
        String text = value.toString().trim();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new IllegalArgumentException(name + " '" + value + "' is not true or false");
    }

    /** The client this serializer registers and looks up with. */
    public SchemaRegistryClient registry() {
        return registry;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("AvroSerializer used before configure()");
        }
        String subject = topic + (isKey ? "-key" : "-value");
        Schema schema = data.getSchema();
        Object datum = data;
        int id;
        try {
            if (useLatestVersion) {
                RegisteredSchema latest = latest(subject);
                id = latest.id();
                if (!latest.schema().equals(schema)) {
                    datum = convert(data, latest.schema());
                    schema = latest.schema();
                }
            } else {
                id = autoRegister ? registry.register(subject, schema) : registry.idOf(subject, schema);
            }
        } catch (SchemaRegistryException e) {
            throw new SerializationException("cannot get a schema id for subject '" + subject + "' (topic '" + topic
                    + "'): " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(WireFormat.MAGIC_BYTE);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer(schema, datum).write(datum, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode a " + schema.getFullName() + " for topic '" + topic
                    + "' with schema id " + id + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private RegisteredSchema latest(String subject) {
        long now = System.currentTimeMillis();
        Latest cached = latestBySubject.get(subject);
        if (cached != null && (latestTtlMillis < 0 || now - cached.fetchedAtMillis() < latestTtlMillis)) {
            return cached.schema();
        }
        RegisteredSchema fresh = registry.latest(subject);
        latestBySubject.put(subject, new Latest(fresh, now));
        return fresh;
    }

    /** {@code data} re-expressed under {@code target} by Avro schema resolution (writer: its own schema). */
    private Object convert(T data, Schema target) throws SerializationException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(buffer, null);
        try {
            writer(data.getSchema(), data).write(data, encoder);
            encoder.flush();
            return new GenericDatumReader<>(data.getSchema(), target, GenericData.get())
                    .read(null, DecoderFactory.get().binaryDecoder(buffer.toByteArray(), null));
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("a " + data.getSchema().getFullName()
                    + " cannot be written with the subject's latest schema " + target + ": " + e.getMessage(), e);
        }
    }

    private DatumWriter<Object> writer(Schema schema, Object datum) {
        return writers.computeIfAbsent(new WriterKey(schema, datum instanceof SpecificRecord), key -> key.specific()
                ? new SpecificDatumWriter<>(key.schema(), SpecificData.getForSchema(key.schema()))
                : new GenericDatumWriter<>(key.schema(), GenericData.get()));
    }
}
