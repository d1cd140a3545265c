package dev.agentevents.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.CompatibilityLevel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the embedded registry knows, as a pure function of its log: {@link #apply} is the only mutation and is
 * used both for live writes and for replaying {@code _schemas} at start. Commands ({@code plan*}) validate a
 * request against the current state and return the log records that carry it out, or throw a
 * {@link RegistryError} with Confluent's status and code; they change nothing themselves.
 *
 * <p>Log records follow the Confluent {@code _schemas} layout: JSON keys {@code {"keytype":"SCHEMA","subject",
 * "version","magic":1}} with values {@code {"subject","version","id","schema","deleted"}}, CONFIG and MODE keys
 * per subject (null subject = global), a null value deletes. One record type is this registry's own:
 * {@code ID_COUNTER} remembers the highest id handed out, so ids are never reused after a permanent delete.
 * Not thread-safe: the server serializes access.
 */
final class RegistryState {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryState.class);
    static final ObjectMapper JSON = new ObjectMapper();

    static final List<String> MODES = List.of("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT");

    record Version(String subject, int version, int id, boolean deleted) {
    }

    /** One record for the {@code _schemas} log; a null value deletes the key. */
    record LogRecord(ObjectNode key, ObjectNode value) {
    }

    record Registration(int id, List<LogRecord> records) {
    }

    private final TreeMap<String, TreeMap<Integer, Version>> subjects = new TreeMap<>();
    private final Map<Integer, String> schemaById = new HashMap<>();
    private final Map<String, Integer> idBySchema = new HashMap<>();
    private final Map<Integer, Schema> parsedById = new HashMap<>();
    private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
    private final Map<String, String> subjectModes = new HashMap<>();
    private final CompatibilityLevel defaultLevel;
    private CompatibilityLevel globalLevel;
    private String globalMode;
    private int maxId;

    RegistryState(CompatibilityLevel defaultLevel) {
        this.defaultLevel = defaultLevel;
    }

    // ---------------------------------------------------------------- the log

    void apply(JsonNode key, JsonNode value) {
        String type = key.path("keytype").asText();
        String subject = key.path("subject").isNull() || key.path("subject").isMissingNode()
                ? null : key.path("subject").asText();
        boolean delete = value == null || value.isNull();
        switch (type) {
            case "SCHEMA" -> {
                int version = key.path("version").asInt();
                if (delete) {
                    TreeMap<Integer, Version> versions = subjects.get(subject);
                    if (versions != null) {
                        Version removed = versions.remove(version);
                        if (versions.isEmpty()) {
                            subjects.remove(subject);
                        }
                        if (removed != null) {
                            forgetIfUnreferenced(removed.id());
                        }
                    }
                } else {
                    int id = value.path("id").asInt();
                    String schema = value.path("schema").asText();
                    subjects.computeIfAbsent(subject, s -> new TreeMap<>())
                            .put(version, new Version(subject, version, id, value.path("deleted").asBoolean(false)));
                    schemaById.put(id, schema);
                    idBySchema.put(schema, id);
                    maxId = Math.max(maxId, id);
                }
            }
            case "CONFIG" -> {
                CompatibilityLevel level = delete ? null
                        : CompatibilityLevel.parse(value.path("compatibilityLevel").asText());
                if (subject == null) {
                    globalLevel = level;
                } else if (level == null) {
                    subjectLevels.remove(subject);
                } else {
                    subjectLevels.put(subject, level);
                }
            }
            case "MODE" -> {
                String mode = delete ? null : value.path("mode").asText();
                if (subject == null) {
                    globalMode = mode;
                } else if (mode == null) {
                    subjectModes.remove(subject);
                } else {
                    subjectModes.put(subject, mode);
                }
            }
            case "ID_COUNTER" -> {
                if (!delete) {
                    maxId = Math.max(maxId, value.path("maxId").asInt());
                }
            }
            default -> LOG.warn("ignoring _schemas record of unknown keytype '{}'", type);
        }
    }

    private void forgetIfUnreferenced(int id) {
        boolean referenced = subjects.values().stream()
                .anyMatch(versions -> versions.values().stream().anyMatch(v -> v.id() == id));
        if (!referenced) {
            String schema = schemaById.remove(id);
            if (schema != null) {
                idBySchema.remove(schema);
            }
            parsedById.remove(id);
        }
    }

    private static LogRecord schemaRecord(String subject, int version, int id, String schema, boolean deleted) {
        ObjectNode key = JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject)
                .put("version", version).put("magic", 1);
        ObjectNode value = JSON.createObjectNode().put("subject", subject).put("version", version).put("id", id)
                .put("schema", schema).put("deleted", deleted);
        return new LogRecord(key, value);
    }

    private static LogRecord schemaTombstone(String subject, int version) {
        return new LogRecord(JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject)
                .put("version", version).put("magic", 1), null);
    }

    private static ObjectNode settingKey(String type, String subject) {
        ObjectNode key = JSON.createObjectNode().put("keytype", type);
        if (subject == null) {
            key.putNull("subject");
        } else {
            key.put("subject", subject);
        }
        return key.put("magic", 0);
    }

    // ---------------------------------------------------------------- queries

    Optional<String> schemaText(int id) {
        return Optional.ofNullable(schemaById.get(id));
    }

    String schemaTextOrThrow(int id) {
        return schemaText(id).orElseThrow(() -> RegistryError.notFound(RegistryError.SCHEMA_NOT_FOUND,
                "Schema " + id + " not found"));
    }

    List<Version> versionsOfId(int id, boolean includeDeleted) {
        schemaTextOrThrow(id);
        List<Version> found = new ArrayList<>();
        subjects.values().forEach(versions -> versions.values().stream()
                .filter(v -> v.id() == id && (includeDeleted || !v.deleted()))
                .forEach(found::add));
        return found;
    }

    List<String> subjectNames(boolean includeDeleted, String prefix) {
        return subjects.entrySet().stream()
                .filter(e -> prefix == null || e.getKey().startsWith(prefix))
                .filter(e -> includeDeleted || e.getValue().values().stream().anyMatch(v -> !v.deleted()))
                .map(Map.Entry::getKey)
                .toList();
    }

    /** Versions of a subject; 40401 when it has none (live ones, unless {@code includeDeleted}). */
    List<Version> versions(String subject, boolean includeDeleted) {
        List<Version> found = new ArrayList<>();
        TreeMap<Integer, Version> versions = subjects.get(subject);
        if (versions != null) {
            versions.values().stream().filter(v -> includeDeleted || !v.deleted()).forEach(found::add);
        }
        if (found.isEmpty()) {
            throw subjectNotFound(subject);
        }
        return found;
    }

    /** Version {@code versionText} ("latest", "-1" or 1..2^31-1) of {@code subject}. */
    Version version(String subject, String versionText, boolean includeDeleted) {
        int number = parseVersion(versionText);
        List<Version> candidates = versions(subject, includeDeleted);
        if (number == -1) {
            return candidates.get(candidates.size() - 1);
        }
        Version version = subjects.get(subject).get(number);
        if (version == null || (version.deleted() && !includeDeleted)) {
            throw RegistryError.notFound(RegistryError.VERSION_NOT_FOUND, "Version " + number + " not found.");
        }
        return version;
    }

    Version lookup(String subject, String schemaText, boolean includeDeleted) {
        List<Version> versions = versions(subject, includeDeleted);
        String canonical = canonical(schemaText);
        for (Version version : versions) {
            if (schemaById.get(version.id()).equals(canonical)) {
                return version;
            }
        }
        throw RegistryError.notFound(RegistryError.SCHEMA_NOT_FOUND, "Schema not found");
    }

    /** Incompatibilities of {@code schemaText} against one version ({@code versionText}) or, if null, per the level. */
    List<String> incompatibilities(String subject, String schemaText, String versionText) {
        Schema candidate = parse(schemaText);
        CompatibilityLevel level = effectiveLevel(subject);
        TreeMap<Integer, Version> all = subjects.get(subject);
        boolean hasLive = all != null && all.values().stream().anyMatch(v -> !v.deleted());
        if (versionText == null || (!hasLive && "latest".equals(versionText))) {
            return hasLive ? level.incompatibilities(candidate, liveSchemas(subject)) : List.of();
        }
        Version against = version(subject, versionText, false);
        return nonTransitive(level).incompatibilities(candidate, List.of(parsed(against.id())));
    }

    private static CompatibilityLevel nonTransitive(CompatibilityLevel level) {
        return switch (level) {
            case BACKWARD_TRANSITIVE -> CompatibilityLevel.BACKWARD;
            case FORWARD_TRANSITIVE -> CompatibilityLevel.FORWARD;
            case FULL_TRANSITIVE -> CompatibilityLevel.FULL;
            default -> level;
        };
    }

    CompatibilityLevel globalLevel() {
        return globalLevel != null ? globalLevel : defaultLevel;
    }

    Optional<CompatibilityLevel> subjectLevel(String subject) {
        return Optional.ofNullable(subjectLevels.get(subject));
    }

    CompatibilityLevel effectiveLevel(String subject) {
        return subjectLevel(subject).orElse(globalLevel());
    }

    String globalMode() {
        return globalMode != null ? globalMode : "READWRITE";
    }

    Optional<String> subjectMode(String subject) {
        return Optional.ofNullable(subjectModes.get(subject));
    }

    String effectiveMode(String subject) {
        return subjectMode(subject).orElse(globalMode());
    }

    // ---------------------------------------------------------------- commands

    Registration planRegister(String subject, String schemaText, String schemaType, JsonNode references,
                              Integer requestedId, Integer requestedVersion) {
        checkSubject(subject);
        String mode = effectiveMode(subject);
        if (mode.startsWith("READONLY")) {
            throw RegistryError.unprocessable(RegistryError.OPERATION_NOT_PERMITTED,
                    "Subject " + subject + " is in read-only mode");
        }
        if (schemaType != null && !schemaType.equals("AVRO")) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA,
                    "Invalid schema type " + schemaType + ": this registry stores AVRO only");
        }
        if (references != null && references.isArray() && !references.isEmpty()) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA,
                    "Schema references are not supported by this registry");
        }
        Schema schema = parse(schemaText);
        String canonical = schema.toString();
        boolean importing = mode.equals("IMPORT");
        if (requestedId != null && !importing) {
            Integer existing = idBySchema.get(canonical);
            if (existing == null || !existing.equals(requestedId)) {
                throw RegistryError.unprocessable(RegistryError.OPERATION_NOT_PERMITTED,
                        "Registering a schema under a given id (" + requestedId + ") needs IMPORT mode; subject "
                                + subject + " is in " + mode + " mode");
            }
        }
        TreeMap<Integer, Version> versions = subjects.getOrDefault(subject, new TreeMap<>());
        for (Version version : versions.values()) {
            if (!version.deleted() && schemaById.get(version.id()).equals(canonical)) {
                return new Registration(version.id(), List.of());
            }
        }
        if (importing) {
            if (requestedId == null) {
                throw RegistryError.unprocessable(RegistryError.OPERATION_NOT_PERMITTED,
                        "Subject " + subject + " is in IMPORT mode: registration must give the schema's id");
            }
            String holder = schemaById.get(requestedId);
            if (holder != null && !holder.equals(canonical)) {
                throw RegistryError.unprocessable(RegistryError.ID_DOES_NOT_MATCH,
                        "Schema id " + requestedId + " already holds a different schema");
            }
        } else {
            List<String> problems = effectiveLevel(subject).incompatibilities(schema, liveSchemas(subject));
            if (!problems.isEmpty()) {
                throw new RegistryError(409, RegistryError.INCOMPATIBLE_SCHEMA,
                        "Schema being registered is incompatible with an earlier schema for subject \"" + subject
                                + "\", details: " + problems);
            }
        }
        int id = importing ? requestedId : idBySchema.getOrDefault(canonical, maxId + 1);
        int version = requestedVersion != null && importing ? requestedVersion
                : (versions.isEmpty() ? 1 : versions.lastKey() + 1);
        List<LogRecord> records = new ArrayList<>();
        if (id > maxId) {
            records.add(new LogRecord(JSON.createObjectNode().put("keytype", "ID_COUNTER").put("magic", 0),
                    JSON.createObjectNode().put("maxId", id)));
        }
        records.add(schemaRecord(subject, version, id, canonical, false));
        return new Registration(id, records);
    }

    List<LogRecord> planDeleteVersion(String subject, String versionText, boolean permanent) {
        checkWritable(subject);
        int number = parseVersion(versionText);
        TreeMap<Integer, Version> all = subjects.get(subject);
        if (all == null || all.isEmpty()) {
            throw subjectNotFound(subject);
        }
        Version version = number == -1 ? version(subject, "latest", permanent) : all.get(number);
        if (version == null) {
            throw RegistryError.notFound(RegistryError.VERSION_NOT_FOUND, "Version " + number + " not found.");
        }
        if (permanent) {
            if (!version.deleted()) {
                throw RegistryError.notFound(RegistryError.VERSION_NOT_SOFT_DELETED, "Subject '" + subject
                        + "' Version " + version.version() + " was not deleted first before being permanently deleted");
            }
            return List.of(schemaTombstone(subject, version.version()));
        }
        if (version.deleted()) {
            throw RegistryError.notFound(RegistryError.VERSION_SOFT_DELETED, "Subject '" + subject + "' Version "
                    + version.version() + " was soft deleted. Set permanent=true to delete permanently");
        }
        return List.of(schemaRecord(subject, version.version(), version.id(), schemaById.get(version.id()), true));
    }

    List<LogRecord> planDeleteSubject(String subject, boolean permanent) {
        checkWritable(subject);
        TreeMap<Integer, Version> all = subjects.get(subject);
        if (all == null || all.isEmpty()) {
            throw subjectNotFound(subject);
        }
        List<LogRecord> records = new ArrayList<>();
        if (permanent) {
            if (all.values().stream().anyMatch(v -> !v.deleted())) {
                throw RegistryError.notFound(RegistryError.SUBJECT_NOT_SOFT_DELETED, "Subject '" + subject
                        + "' was not deleted first before being permanently deleted");
            }
            all.values().forEach(v -> records.add(schemaTombstone(subject, v.version())));
            if (subjectLevels.containsKey(subject)) {
                records.add(new LogRecord(settingKey("CONFIG", subject), null));
            }
            if (subjectModes.containsKey(subject)) {
                records.add(new LogRecord(settingKey("MODE", subject), null));
            }
            return records;
        }
        List<Version> live = all.values().stream().filter(v -> !v.deleted()).toList();
        if (live.isEmpty()) {
            throw RegistryError.notFound(RegistryError.SUBJECT_SOFT_DELETED, "Subject '" + subject
                    + "' was soft deleted. Set permanent=true to delete permanently");
        }
        live.forEach(v -> records.add(schemaRecord(subject, v.version(), v.id(), schemaById.get(v.id()), true)));
        return records;
    }

    /** Versions a subject delete affects, for the answer: live ones (soft) or all (permanent). */
    List<Integer> versionsAffectedBy(List<LogRecord> records) {
        return records.stream().filter(r -> r.key().path("keytype").asText().equals("SCHEMA"))
                .map(r -> r.key().path("version").asInt()).toList();
    }

    LogRecord planCompatibility(String subject, String levelText) {
        CompatibilityLevel level;
        try {
            level = CompatibilityLevel.parse(levelText);
        } catch (IllegalArgumentException e) {
            throw RegistryError.unprocessable(RegistryError.INVALID_COMPATIBILITY_LEVEL,
                    "Invalid compatibility level. Valid values are none, backward, forward, full, "
                            + "backward_transitive, forward_transitive, and full_transitive");
        }
        if (subject != null) {
            checkSubject(subject);
        }
        return new LogRecord(settingKey("CONFIG", subject),
                JSON.createObjectNode().put("compatibilityLevel", level.name()));
    }

    LogRecord planDeleteCompatibility(String subject) {
        if (subject != null && !subjectLevels.containsKey(subject)) {
            throw RegistryError.notFound(RegistryError.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                    "Subject '" + subject + "' does not have subject-level compatibility configured");
        }
        return new LogRecord(settingKey("CONFIG", subject), null);
    }

    LogRecord planMode(String subject, String modeText, boolean force) {
        String mode = modeText == null ? "" : modeText.trim().toUpperCase(java.util.Locale.ROOT);
        if (!MODES.contains(mode)) {
            throw RegistryError.unprocessable(RegistryError.INVALID_MODE,
                    "Invalid mode '" + modeText + "'. Valid values are " + MODES);
        }
        if (mode.equals("IMPORT") && !force) {
            boolean hasSchemas = subject == null ? !subjectNames(false, null).isEmpty()
                    : subjects.containsKey(subject);
            if (hasSchemas) {
                throw RegistryError.unprocessable(RegistryError.OPERATION_NOT_PERMITTED,
                        "Cannot import since found existing subjects; set force=true to import anyway");
            }
        }
        if (subject != null) {
            checkSubject(subject);
        }
        return new LogRecord(settingKey("MODE", subject), JSON.createObjectNode().put("mode", mode));
    }

    LogRecord planDeleteMode(String subject) {
        if (!subjectModes.containsKey(subject)) {
            throw RegistryError.notFound(RegistryError.SUBJECT_MODE_NOT_CONFIGURED,
                    "Subject '" + subject + "' does not have subject-level mode configured");
        }
        return new LogRecord(settingKey("MODE", subject), null);
    }

    // ---------------------------------------------------------------- rules

    private void checkWritable(String subject) {
        if (effectiveMode(subject).startsWith("READONLY")) {
            throw RegistryError.unprocessable(RegistryError.OPERATION_NOT_PERMITTED,
                    "Subject " + subject + " is in read-only mode");
        }
    }

    private static void checkSubject(String subject) {
        if (subject == null || subject.isBlank() || subject.chars().anyMatch(Character::isISOControl)) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SUBJECT,
                    "Invalid subject '" + subject + "': it must be non-blank and free of control characters");
        }
    }

    private static RegistryError subjectNotFound(String subject) {
        return RegistryError.notFound(RegistryError.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
    }

    /** -1 for latest, else a version number; 42202 for anything else. */
    static int parseVersion(String text) {
        if ("latest".equals(text) || "-1".equals(text)) {
            return -1;
        }
        try {
            int number = Integer.parseInt(text);
            if (number >= 1) {
                return number;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw RegistryError.unprocessable(RegistryError.INVALID_VERSION, "The specified version '" + text
                + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    }

    static Schema parse(String schemaText) {
        if (schemaText == null || schemaText.isBlank()) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA, "Invalid schema: empty");
        }
        try {
            return new Schema.Parser().parse(schemaText);
        } catch (SchemaParseException | org.apache.avro.AvroTypeException e) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA,
                    "Invalid schema " + abbreviate(schemaText) + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA,
                    "Invalid schema " + abbreviate(schemaText) + ": " + e);
        }
    }

    private static String canonical(String schemaText) {
        return parse(schemaText).toString();
    }

    private Schema parsed(int id) {
        return parsedById.computeIfAbsent(id, i -> new Schema.Parser().parse(schemaById.get(i)));
    }

    private List<Schema> liveSchemas(String subject) {
        TreeMap<Integer, Version> versions = subjects.get(subject);
        if (versions == null) {
            return List.of();
        }
        return versions.values().stream().filter(v -> !v.deleted()).map(v -> parsed(v.id())).toList();
    }

    Set<String> subjectsOfId(int id, boolean includeDeleted) {
        Set<String> names = new LinkedHashSet<>();
        versionsOfId(id, includeDeleted).forEach(v -> names.add(v.subject()));
        return names;
    }

    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "...";
    }
}
