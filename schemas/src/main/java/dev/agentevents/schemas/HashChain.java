package dev.agentevents.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * The per-run hash chain of {@code agent-events-ordered}, in one place: the router writes with it, replay
 * verifies with it.
 *
 * <p>{@code hash = SHA-256(bytes(prevHash) || UTF-8(kind) || 0x00 || avroBinary(payload))}, hex-encoded, where
 * {@code payload} is the record's {@code event} (kind {@code event}) or {@code gap} (kind {@code gap}) encoded
 * with its own schema, and the first record of a run has {@code prevHash = }{@link #GENESIS}. Because the
 * payload is encoded with the schema it was written with, a reader holding the writer schema (replay decodes
 * with the schema fetched by id) recomputes the same bytes, whatever schema version it was compiled with.
 */
public final class HashChain {

    static {
        AvroTrust.ensure();
    }

    /** The {@code prevHash} of a run's first record. */
    public static final String GENESIS = "0".repeat(64);

    private static final HexFormat HEX = HexFormat.of();
    /** One digest per thread, reset by each {@code digest()}. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(HashChain::sha256);
    /** A writer per generated record class; writers are thread-safe and keep what they resolved. */
    private static final ClassValue<DatumWriter<GenericRecord>> SPECIFIC_WRITERS = new ClassValue<>() {
        @Override
        protected DatumWriter<GenericRecord> computeValue(Class<?> type) {
            return new NullableUnionWriter<>(SpecificData.get().getSchema(type));
        }
    };

    private HashChain() {
    }

    /** The hash of a record of {@code kind} with {@code payload}, following {@code prevHash}. */
    public static String next(String prevHash, String kind, GenericRecord payload) {
        Objects.requireNonNull(payload, "hash chain payload (event or gap) must not be null");
        return next(prevHash, kind, avroBinary(payload));
    }

    /** As {@link #next(String, String, GenericRecord)}, for a payload already in Avro binary. */
    public static String next(String prevHash, String kind, byte[] payloadAvroBinary) {
        byte[] prev;
        try {
            prev = HEX.parseHex(Objects.requireNonNull(prevHash, "prevHash must not be null"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("prevHash '" + prevHash + "' is not hex", e);
        }
        if (prev.length != 32) {
            throw new IllegalArgumentException("prevHash '" + prevHash + "' is not 32 bytes of hex");
        }
        MessageDigest sha256 = SHA_256.get();
        sha256.update(prev);
        sha256.update(Objects.requireNonNull(kind, "kind must not be null").getBytes(StandardCharsets.UTF_8));
        sha256.update((byte) 0);
        sha256.update(payloadAvroBinary);
        return HEX.formatHex(sha256.digest());
    }

    /** {@code record} in Avro binary with its own schema (specific or generic). */
    public static byte[] avroBinary(GenericRecord record) {
        DatumWriter<GenericRecord> writer = record instanceof SpecificRecord
                ? SPECIFIC_WRITERS.get(record.getClass())
                : new GenericDatumWriter<>(record.getSchema(), GenericData.get());
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + record.getSchema().getFullName(), e);
        }
        return out.toByteArray();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
