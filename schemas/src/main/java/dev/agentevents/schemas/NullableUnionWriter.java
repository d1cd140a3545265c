package dev.agentevents.schemas;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Avro's writer for generated records, except that a two-branch union with {@code null} (every optional field of
 * the event schemas) picks its branch by whether the value is null instead of looking the value's type up by name:
 * the same bytes, without a name lookup per optional field per record. Other unions resolve as Avro resolves them.
 */
public class NullableUnionWriter<T> extends SpecificDatumWriter<T> {

    public NullableUnionWriter(Schema schema) {
        super(schema, SpecificData.getForSchema(schema));
    }

    @Override
    protected int resolveUnion(Schema union, Object datum) {
        List<Schema> branches = union.getTypes();
        if (branches.size() == 2) {
            if (branches.get(0).getType() == Schema.Type.NULL) {
                return datum == null ? 0 : 1;
            }
            if (branches.get(1).getType() == Schema.Type.NULL) {
                return datum == null ? 1 : 0;
            }
        }
        return super.resolveUnion(union, datum);
    }
}
