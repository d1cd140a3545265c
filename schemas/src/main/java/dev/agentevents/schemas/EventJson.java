package dev.agentevents.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro records as plain JSON, the form browsers and other languages see: field names as in the schema, optional
 * ({@code ["null", T]}) fields unwrapped and left out when null, {@code timestamp-millis} as epoch milliseconds,
 * bytes as base64. Works on specific and generic records alike, so a record read with any writer schema prints
 * with the fields that schema has. {@link #transcode} writes the same JSON straight from Avro binary.
 */
public final class EventJson {

    /** Characters outside the BMP (emoji) go out as UTF-8, not as escaped surrogate pairs, whatever the output. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    private EventJson() {
    }

    /**
     * Writes {@code record} as a JSON object to {@code out}, streaming (no tree in between): the fanout node does
     * this once per record it delivers.
     */
    public static void write(JsonGenerator out, GenericRecord record) throws IOException {
        out.writeStartObject();
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value != null) {
                out.writeFieldName(field.name());
                value(out, field.schema(), value);
            }
        }
        out.writeEndObject();
    }

    /** {@code record} as a JSON object tree (what {@link #write} writes). */
    public static ObjectNode toJson(GenericRecord record) {
        try (TokenBuffer buffer = new TokenBuffer(MAPPER, false)) {
            write(buffer, record);
            return MAPPER.readTree(buffer.asParser());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + record.getSchema().getFullName() + " as JSON", e);
        }
    }

    private static void value(JsonGenerator out, Schema schema, Object value) throws IOException {
        if (value == null) {
            out.writeNull();
            return;
        }
        switch (schema.getType()) {
            case UNION -> value(out, branch(schema, value), value);
            case RECORD -> write(out, (GenericRecord) value);
            case STRING -> out.writeString(value.toString());
            case ENUM -> out.writeString(((GenericEnumSymbol<?>) value).toString());
            case INT -> out.writeNumber(((Number) value).intValue());
            case LONG -> out.writeNumber(value instanceof Instant instant ? instant.toEpochMilli()
                    : ((Number) value).longValue());
            case FLOAT -> out.writeNumber(((Number) value).floatValue());
            case DOUBLE -> out.writeNumber(((Number) value).doubleValue());
            case BOOLEAN -> out.writeBoolean((Boolean) value);
            case BYTES -> out.writeString(Base64.getEncoder().encodeToString(bytes((ByteBuffer) value)));
            case FIXED -> out.writeString(Base64.getEncoder().encodeToString(((GenericFixed) value).bytes()));
            case ARRAY -> {
                out.writeStartArray();
                for (Object item : (Collection<?>) value) {
                    value(out, schema.getElementType(), item);
                }
                out.writeEndArray();
            }
            case MAP -> {
                out.writeStartObject();
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    out.writeFieldName(entry.getKey().toString());
                    value(out, schema.getValueType(), entry.getValue());
                }
                out.writeEndObject();
            }
            case NULL -> out.writeNull();
        }
    }

    /**
     * Reads one record of {@code schema} (the writer's) from {@code in} and writes it as {@link #write} writes the
     * decoded record, without decoding it into objects first: ASCII strings go from their bytes straight to the
     * output. Returns the value of the record's own long field {@code captured} (0 when it has none), so a caller
     * learns e.g. {@code occurredAt} without a second read.
     */
    public static long transcodeRecord(JsonGenerator out, Schema schema, Decoder in, String captured)
            throws IOException {
        long capturedValue = 0;
        out.writeStartObject();
        for (Schema.Field field : schema.getFields()) {
            Schema type = field.schema();
            if (type.getType() == Schema.Type.UNION) {
                type = type.getTypes().get(in.readIndex());
            }
            if (type.getType() == Schema.Type.NULL) {
                in.readNull(); // a null field is left out
                continue;
            }
            out.writeFieldName(field.name());
            if (type.getType() == Schema.Type.LONG && field.name().equals(captured)) {
                capturedValue = in.readLong();
                out.writeNumber(capturedValue);
            } else {
                transcode(out, type, in);
            }
        }
        out.writeEndObject();
        return capturedValue;
    }

    /** Reads one value of {@code schema} from {@code in} and writes it as {@link #write} writes it decoded. */
    public static void transcode(JsonGenerator out, Schema schema, Decoder in) throws IOException {
        switch (schema.getType()) {
            case UNION -> transcode(out, schema.getTypes().get(in.readIndex()), in);
            case RECORD -> transcodeRecord(out, schema, in, null);
            case STRING -> string(out, in.readString(null));
            case ENUM -> out.writeString(schema.getEnumSymbols().get(in.readEnum()));
            case INT -> out.writeNumber(in.readInt());
            case LONG -> out.writeNumber(in.readLong());
            case FLOAT -> out.writeNumber(in.readFloat());
            case DOUBLE -> out.writeNumber(in.readDouble());
            case BOOLEAN -> out.writeBoolean(in.readBoolean());
            case BYTES -> out.writeString(Base64.getEncoder().encodeToString(bytes(in.readBytes(null))));
            case FIXED -> {
                byte[] fixed = new byte[schema.getFixedSize()];
                in.readFixed(fixed);
                out.writeString(Base64.getEncoder().encodeToString(fixed));
            }
            case ARRAY -> {
                out.writeStartArray();
                for (long n = in.readArrayStart(); n != 0; n = in.arrayNext()) {
                    for (long i = 0; i < n; i++) {
                        transcode(out, schema.getElementType(), in);
                    }
                }
                out.writeEndArray();
            }
            case MAP -> {
                out.writeStartObject();
                for (long n = in.readMapStart(); n != 0; n = in.mapNext()) {
                    for (long i = 0; i < n; i++) {
                        out.writeFieldName(in.readString(null).toString());
                        transcode(out, schema.getValueType(), in);
                    }
                }
                out.writeEndObject();
            }
            case NULL -> {
                in.readNull();
                out.writeNull();
            }
        }
    }

    /**
     * An Avro string: ASCII (nearly every field) written from its bytes, escaped by the generator; anything else
     * through {@link Utf8#toString}, which replaces malformed UTF-8 as {@link #write} does, so a text frame never
     * carries invalid UTF-8.
     */
    private static void string(JsonGenerator out, Utf8 utf8) throws IOException {
        byte[] bytes = utf8.getBytes();
        int length = utf8.getByteLength();
        for (int i = 0; i < length; i++) {
            if (bytes[i] < 0) {
                out.writeString(utf8.toString());
                return;
            }
        }
        out.writeUTF8String(bytes, 0, length);
    }

    /** The non-null branch of an optional union that {@code value} belongs to. */
    private static Schema branch(Schema union, Object value) {
        for (Schema type : union.getTypes()) {
            if (type.getType() == Schema.Type.NULL) {
                continue;
            }
            if (type.getType() == Schema.Type.RECORD && value instanceof GenericRecord record
                    && !record.getSchema().getFullName().equals(type.getFullName())) {
                continue;
            }
            return type;
        }
        throw new IllegalArgumentException("no branch of " + union + " holds a " + value.getClass().getName());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] copy = new byte[buffer.remaining()];
        buffer.duplicate().get(copy);
        return copy;
    }
}
