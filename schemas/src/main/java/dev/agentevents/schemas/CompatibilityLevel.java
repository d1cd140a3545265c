package dev.agentevents.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Schema Registry compatibility levels, checked with Avro's own {@link SchemaCompatibility}. BACKWARD: the new
 * schema can read data written with the old; FORWARD: the old can read data written with the new; FULL: both.
 * Plain levels check against the newest existing version only, {@code _TRANSITIVE} levels against all of them.
 */
public enum CompatibilityLevel {
    NONE(false, false, false),
    BACKWARD(true, false, false),
    BACKWARD_TRANSITIVE(true, false, true),
    FORWARD(false, true, false),
    FORWARD_TRANSITIVE(false, true, true),
    FULL(true, true, false),
    FULL_TRANSITIVE(true, true, true);

    private final boolean backward;
    private final boolean forward;
    private final boolean transitive;

    CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
        this.backward = backward;
        this.forward = forward;
        this.transitive = transitive;
    }

    /** The level named {@code name} (case-insensitive); the message names the bad value and the legal ones. */
    public static CompatibilityLevel parse(String name) {
        if (name != null) {
            for (CompatibilityLevel level : values()) {
                if (level.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
                    return level;
                }
            }
        }
        throw new IllegalArgumentException("unknown compatibility level '" + name + "': use one of "
                + List.of(values()));
    }

    public boolean isTransitive() {
        return transitive;
    }

    /**
     * Why {@code candidate} may not follow {@code existing} (oldest first) at this level; empty when it may.
     * Each message names the direction, the version it fails against (1-based position in {@code existing})
     * and Avro's reason with its location.
     */
    public List<String> incompatibilities(Schema candidate, List<Schema> existing) {
        List<String> problems = new ArrayList<>();
        if (this == NONE || existing.isEmpty()) {
            return problems;
        }
        int first = transitive ? 0 : existing.size() - 1;
        for (int i = existing.size() - 1; i >= first; i--) {
            Schema old = existing.get(i);
            int position = i + 1;
            if (backward) {
                describe(SchemaCompatibility.checkReaderWriterCompatibility(candidate, old),
                        "new schema cannot read data written with existing schema #" + position, problems);
            }
            if (forward) {
                describe(SchemaCompatibility.checkReaderWriterCompatibility(old, candidate),
                        "existing schema #" + position + " cannot read data written with the new schema", problems);
            }
        }
        return problems;
    }

    private void describe(SchemaPairCompatibility result, String direction, List<String> problems) {
        for (Incompatibility incompatibility : result.getResult().getIncompatibilities()) {
            problems.add(name() + ": " + direction + ": " + incompatibility.getType() + " at "
                    + incompatibility.getLocation() + ": " + incompatibility.getMessage());
        }
    }
}
