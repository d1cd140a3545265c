package dev.agentevents.embedded;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.function.Function;

/**
 * Confluent's REST API for Avro schemas, one handler per declared route: {@code /subjects}, {@code /subjects/{s}}
 * (lookup, delete), {@code /subjects/{s}/versions[/{v}[/schema]]} (register, read, delete),
 * {@code /schemas/ids/{id}[/schema|/versions|/subjects]}, {@code /schemas/types},
 * {@code /compatibility/subjects/{s}/versions[/{v}]}, {@code /config[/{s}]}, {@code /mode[/{s}]} and {@code /health}.
 * Reads and writes go through the {@link Store}, which keeps the state and its log in step.
 */
final class RegistryApi {

    /** Where the handlers read and change the registry's state. */
    interface Store {
        <T> T read(Function<RegistryState, T> query);

        /** Plans a change with the current state, makes it durable, applies it and returns the plan's answer. */
        <T> T write(Function<RegistryState, Planned<T>> command);
    }

    /** A change to append to the log, and what to answer once it is applied. */
    record Planned<T>(List<RegistryState.LogRecord> records, T answer) {
    }

    private final Store store;
    private final RegistryRoutes routes = new RegistryRoutes();

    RegistryApi(Store store) {
        this.store = store;
        routes.add("GET", "/", r -> object())
                .add("GET", "/health", r -> object().put("status", "UP"))
                .add("GET", "/schemas/types", r -> RegistryState.JSON.createArrayNode().add("AVRO"))
                .add("GET", "/schemas/ids/{id}", r -> object().put("schema", schemaText(id(r))))
                .add("GET", "/schemas/ids/{id}/schema", r -> schemaText(id(r)))
                .add("GET", "/schemas/ids/{id}/versions", this::versionsOfId)
                .add("GET", "/schemas/ids/{id}/subjects", this::subjectsOfId)
                .add("GET", "/subjects", this::subjects)
                .add("POST", "/subjects/{subject}", this::lookup)
                .add("DELETE", "/subjects/{subject}", this::deleteSubject)
                .add("GET", "/subjects/{subject}/versions", this::versions)
                .add("POST", "/subjects/{subject}/versions", this::register)
                .add("GET", "/subjects/{subject}/versions/{version}", this::version)
                .add("DELETE", "/subjects/{subject}/versions/{version}", this::deleteVersion)
                .add("GET", "/subjects/{subject}/versions/{version}/schema", r -> store.read(s -> s.schemaTextOrThrow(
                        s.version(r.path("subject"), r.path("version"), r.flag("deleted")).id())))
                .add("POST", "/compatibility/subjects/{subject}/versions", this::compatibility)
                .add("POST", "/compatibility/subjects/{subject}/versions/{version}", this::compatibility)
                .add("GET", "/config", this::getConfig)
                .add("PUT", "/config", this::putConfig)
                .add("DELETE", "/config", this::deleteConfig)
                .add("GET", "/config/{subject}", this::getConfig)
                .add("PUT", "/config/{subject}", this::putConfig)
                .add("DELETE", "/config/{subject}", this::deleteConfig)
                .add("GET", "/mode", this::getMode)
                .add("PUT", "/mode", this::putMode)
                .add("GET", "/mode/{subject}", this::getMode)
                .add("PUT", "/mode/{subject}", this::putMode)
                .add("DELETE", "/mode/{subject}", this::deleteMode);
    }

    /** The answer to a request (a JSON node or text); a {@link RegistryError} for Confluent's error answers. */
    Object answer(String method, List<String> path, java.util.Map<String, String> query, InputStream body)
            throws IOException {
        return routes.answer(method, path, query, body);
    }

    // ---------------------------------------------------------------- schemas by id

    private static int id(RegistryRoutes.Request request) {
        try {
            return Integer.parseInt(request.path("id"));
        } catch (NumberFormatException e) {
            throw RegistryError.notFound(RegistryError.SCHEMA_NOT_FOUND, "Schema " + request.path("id") + " not found");
        }
    }

    private String schemaText(int id) {
        return store.read(s -> s.schemaTextOrThrow(id));
    }

    private Object versionsOfId(RegistryRoutes.Request request) {
        int id = id(request);
        return store.read(s -> {
            ArrayNode list = RegistryState.JSON.createArrayNode();
            s.versionsOfId(id, request.flag("deleted")).forEach(v ->
                    list.addObject().put("subject", v.subject()).put("version", v.version()));
            return list;
        });
    }

    private Object subjectsOfId(RegistryRoutes.Request request) {
        int id = id(request);
        return store.read(s -> {
            ArrayNode list = RegistryState.JSON.createArrayNode();
            s.subjectsOfId(id, request.flag("deleted")).forEach(list::add);
            return list;
        });
    }

    // ---------------------------------------------------------------- subjects and versions

    private Object subjects(RegistryRoutes.Request request) {
        return store.read(s -> {
            ArrayNode list = RegistryState.JSON.createArrayNode();
            s.subjectNames(request.flag("deleted"), request.query().get("subjectPrefix")).forEach(list::add);
            return list;
        });
    }

    private Object lookup(RegistryRoutes.Request request) throws IOException {
        JsonNode body = json(request.body());
        String subject = request.path("subject");
        return store.read(s -> {
            RegistryState.Version found = s.lookup(subject, text(body, "schema"), request.flag("deleted"));
            return versionJson(found, s.schemaTextOrThrow(found.id()));
        });
    }

    private Object deleteSubject(RegistryRoutes.Request request) {
        return store.write(s -> {
            List<RegistryState.LogRecord> records = s.planDeleteSubject(request.path("subject"),
                    request.flag("permanent"));
            ArrayNode versions = RegistryState.JSON.createArrayNode();
            s.versionsAffectedBy(records).forEach(versions::add);
            return new Planned<>(records, versions);
        });
    }

    private Object versions(RegistryRoutes.Request request) {
        return store.read(s -> {
            ArrayNode list = RegistryState.JSON.createArrayNode();
            s.versions(request.path("subject"), request.flag("deleted")).forEach(v -> list.add(v.version()));
            return list;
        });
    }

    private Object register(RegistryRoutes.Request request) throws IOException {
        JsonNode body = json(request.body());
        Integer id = body.hasNonNull("id") ? body.get("id").asInt() : null;
        Integer version = body.hasNonNull("version") ? body.get("version").asInt() : null;
        String schemaType = body.hasNonNull("schemaType") ? body.get("schemaType").asText() : null;
        return store.write(s -> {
            RegistryState.Registration registration = s.planRegister(request.path("subject"), text(body, "schema"),
                    schemaType, body.get("references"), id, version);
            return new Planned<>(registration.records(), object().put("id", registration.id()));
        });
    }

    private Object version(RegistryRoutes.Request request) {
        return store.read(s -> {
            RegistryState.Version found = s.version(request.path("subject"), request.path("version"),
                    request.flag("deleted"));
            return versionJson(found, s.schemaTextOrThrow(found.id()));
        });
    }

    private Object deleteVersion(RegistryRoutes.Request request) {
        return store.write(s -> {
            List<RegistryState.LogRecord> records = s.planDeleteVersion(request.path("subject"),
                    request.path("version"), request.flag("permanent"));
            return new Planned<>(records, RegistryState.JSON.getNodeFactory()
                    .numberNode(records.get(0).key().path("version").asInt()));
        });
    }

    private Object compatibility(RegistryRoutes.Request request) throws IOException {
        JsonNode body = json(request.body());
        List<String> problems = store.read(s -> s.incompatibilities(request.path("subject"), text(body, "schema"),
                request.path("version")));
        ObjectNode answer = object().put("is_compatible", problems.isEmpty());
        if (request.flag("verbose")) {
            ArrayNode messages = answer.putArray("messages");
            problems.forEach(messages::add);
        }
        return answer;
    }

    // ---------------------------------------------------------------- config and mode (global or per subject)

    private Object getConfig(RegistryRoutes.Request request) {
        String subject = request.path("subject");
        return store.read(s -> {
            String level = subject == null ? s.globalLevel().name()
                    : s.subjectLevel(subject).map(Enum::name).orElseGet(() -> {
                        if (request.flag("defaultToGlobal")) {
                            return s.globalLevel().name();
                        }
                        throw RegistryError.notFound(RegistryError.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                                "Subject '" + subject + "' does not have subject-level compatibility configured");
                    });
            return object().put("compatibilityLevel", level);
        });
    }

    private Object putConfig(RegistryRoutes.Request request) throws IOException {
        JsonNode body = json(request.body());
        return store.write(s -> {
            RegistryState.LogRecord record = s.planCompatibility(request.path("subject"), body.path("compatibility")
                    .asText(body.path("compatibilityLevel").asText(null)));
            return new Planned<>(List.of(record), object()
                    .put("compatibility", record.value().path("compatibilityLevel").asText()));
        });
    }

    private Object deleteConfig(RegistryRoutes.Request request) {
        String subject = request.path("subject");
        return store.write(s -> {
            String previous = subject == null ? s.globalLevel().name()
                    : s.subjectLevel(subject).map(Enum::name).orElse(null);
            return new Planned<>(List.of(s.planDeleteCompatibility(subject)),
                    object().put("compatibilityLevel", previous));
        });
    }

    private Object getMode(RegistryRoutes.Request request) {
        String subject = request.path("subject");
        return store.read(s -> {
            String mode = subject == null ? s.globalMode() : s.subjectMode(subject).orElseGet(() -> {
                if (request.flag("defaultToGlobal")) {
                    return s.globalMode();
                }
                throw RegistryError.notFound(RegistryError.SUBJECT_MODE_NOT_CONFIGURED,
                        "Subject '" + subject + "' does not have subject-level mode configured");
            });
            return object().put("mode", mode);
        });
    }

    private Object putMode(RegistryRoutes.Request request) throws IOException {
        JsonNode body = json(request.body());
        return store.write(s -> {
            RegistryState.LogRecord record = s.planMode(request.path("subject"), body.path("mode").asText(null),
                    request.flag("force"));
            return new Planned<>(List.of(record), object().put("mode", record.value().path("mode").asText()));
        });
    }

    private Object deleteMode(RegistryRoutes.Request request) {
        String subject = request.path("subject");
        return store.write(s -> {
            RegistryState.LogRecord record = s.planDeleteMode(subject);
            return new Planned<>(List.of(record), object().put("mode", s.subjectMode(subject).orElse(null)));
        });
    }

    // ---------------------------------------------------------------- JSON

    private static ObjectNode object() {
        return RegistryState.JSON.createObjectNode();
    }

    private static ObjectNode versionJson(RegistryState.Version version, String schema) {
        return object().put("subject", version.subject()).put("version", version.version()).put("id", version.id())
                .put("schema", schema);
    }

    private static JsonNode json(InputStream body) throws IOException {
        byte[] bytes = body.readAllBytes();
        try {
            JsonNode node = RegistryState.JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new RegistryError(400, 400, "Request body must be a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new RegistryError(400, 400, "Request body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode request, String field) {
        JsonNode value = request.get(field);
        if (value == null || !value.isTextual()) {
            throw RegistryError.unprocessable(RegistryError.INVALID_SCHEMA,
                    "Invalid schema: the request has no \"" + field + "\" string");
        }
        return value.asText();
    }
}
