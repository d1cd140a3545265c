package dev.agentevents.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.CompatibilityLevel;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A client of the Confluent Schema Registry REST API (the real one, or the embedded one), on the JDK's
 * {@code java.net.http}, speaking {@code application/vnd.schemaregistry.v1+json}.
 *
 * <p>Answers that never change are cached for the life of the client: the schema of an id, and the id of a
 * schema under a subject. Everything else (latest versions, configs, modes) is asked each time. Several
 * comma-separated URLs may be given; a URL that cannot be reached is skipped for the next one. Every failure
 * is a {@link SchemaRegistryException} that names the request, the HTTP status, Confluent's error code and the
 * subject or id involved. Thread-safe.
 */
public final class SchemaRegistryClient {

    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    /** Registry URL(s), comma-separated (Confluent's name). */
    public static final String URL_CONFIG = "schema.registry.url";
    /** {@code user:password} for HTTP basic authentication (Confluent's name, with source USER_INFO). */
    public static final String BASIC_AUTH_USER_INFO_CONFIG = "basic.auth.user.info";
    /** Per-request timeout in milliseconds; default 10000. */
    public static final String REQUEST_TIMEOUT_CONFIG = "schema.registry.request.timeout.ms";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUris;
    private final String authorization;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final ConcurrentMap<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final ConcurrentMap<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, Schema schema) {
    }

    /** A client of the registry at {@code urls} (comma-separated), without authentication. */
    public SchemaRegistryClient(String urls) {
        this(urls, null, Duration.ofSeconds(10));
    }

    public SchemaRegistryClient(String urls, String basicAuthUserInfo, Duration requestTimeout) {
        Objects.requireNonNull(urls, URL_CONFIG + " must be set");
        this.baseUris = Arrays.stream(urls.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(SchemaRegistryClient::parseBaseUri)
                .toList();
        if (baseUris.isEmpty()) {
            throw new IllegalArgumentException(URL_CONFIG + " '" + urls + "' names no URL");
        }
        this.authorization = basicAuthUserInfo == null || basicAuthUserInfo.isBlank()
                ? null
                : "Basic " + Base64.getEncoder().encodeToString(basicAuthUserInfo.getBytes(StandardCharsets.UTF_8));
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).build();
    }

    /** A client from Kafka-style serde configs: {@value #URL_CONFIG}, {@value #BASIC_AUTH_USER_INFO_CONFIG}, ... */
    public static SchemaRegistryClient fromConfig(Map<String, ?> configs) {
        Object url = configs.get(URL_CONFIG);
        if (url == null || url.toString().isBlank()) {
            throw new IllegalArgumentException("missing " + URL_CONFIG + " in serde config " + configs.keySet());
        }
        Object userInfo = configs.get(BASIC_AUTH_USER_INFO_CONFIG);
        Object timeout = configs.get(REQUEST_TIMEOUT_CONFIG);
        long timeoutMs;
        try {
            timeoutMs = timeout == null ? 10_000 : Long.parseLong(timeout.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(REQUEST_TIMEOUT_CONFIG + " '" + timeout + "' is not a number of ms", e);
        }
        return new SchemaRegistryClient(url.toString(), userInfo == null ? null : userInfo.toString(),
                Duration.ofMillis(timeoutMs));
    }

    private static URI parseBaseUri(String url) {
        String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(URL_CONFIG + " '" + url + "' is not a URL", e);
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException(URL_CONFIG + " '" + url + "' must start with http:// or https://");
        }
        return uri;
    }

    /** The registry URLs this client talks to. */
    public List<URI> urls() {
        return baseUris;
    }

    // ---- schemas and subjects

    /** Registers {@code schema} under {@code subject} (or finds it there) and returns its global id. */
    public int register(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema), subject, null);
        int id = answer.path("id").asInt(-1);
        idsBySubjectSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /** The registration of {@code schema} under {@code subject}; 40401/40403 when it is not registered there. */
    public RegisteredSchema lookup(String subject, Schema schema) {
        JsonNode answer = send("POST", "/subjects/" + encode(subject), schemaBody(schema), subject, null);
        RegisteredSchema registered = registered(answer, subject);
        idsBySubjectSchema.put(new SubjectSchema(subject, schema), registered.id());
        return registered;
    }

    /** The global id of {@code schema} under {@code subject}, from cache or by {@link #lookup}. */
    public int idOf(String subject, Schema schema) {
        Integer cached = idsBySubjectSchema.get(new SubjectSchema(subject, schema));
        return cached != null ? cached : lookup(subject, schema).id();
    }

    /** The schema with global id {@code id}; cached forever, since ids never change meaning. */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("GET", "/schemas/ids/" + id, null, null, id);
        Schema schema = parse(answer.path("schema").asText(), null, id);
        Schema previous = schemasById.putIfAbsent(id, schema);
        return previous != null ? previous : schema;
    }

    /** The newest non-deleted version under {@code subject}. */
    public RegisteredSchema latest(String subject) {
        return version(subject, "latest");
    }

    /** Version {@code version} ("1", "2", ..., or "latest") under {@code subject}. */
    public RegisteredSchema version(String subject, String version) {
        JsonNode answer = send("GET", "/subjects/" + encode(subject) + "/versions/" + encode(version), null, subject,
                null);
        return registered(answer, subject);
    }

    public List<String> subjects() {
        JsonNode answer = send("GET", "/subjects", null, null, null);
        List<String> subjects = new ArrayList<>();
        answer.forEach(n -> subjects.add(n.asText()));
        return subjects;
    }

    public List<Integer> versions(String subject) {
        return intList(send("GET", "/subjects/" + encode(subject) + "/versions", null, subject, null));
    }

    /** Soft-deletes (or, with {@code permanent}, removes a soft-deleted) subject; returns its versions. */
    public List<Integer> deleteSubject(String subject, boolean permanent) {
        List<Integer> versions = intList(send("DELETE",
                "/subjects/" + encode(subject) + (permanent ? "?permanent=true" : ""), null, subject, null));
        idsBySubjectSchema.keySet().removeIf(k -> k.subject().equals(subject));
        return versions;
    }

    /** Soft-deletes (or, with {@code permanent}, removes a soft-deleted) version; returns the version number. */
    public int deleteVersion(String subject, String version, boolean permanent) {
        JsonNode answer = send("DELETE", "/subjects/" + encode(subject) + "/versions/" + encode(version)
                + (permanent ? "?permanent=true" : ""), null, subject, null);
        idsBySubjectSchema.keySet().removeIf(k -> k.subject().equals(subject));
        return answer.asInt();
    }

    /** The incompatibilities of {@code schema} against {@code version} ("latest", a number) of {@code subject}; empty when compatible. */
    public List<String> incompatibilities(String subject, String version, Schema schema) {
        JsonNode answer = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/" + encode(version)
                + "?verbose=true", schemaBody(schema), subject, null);
        if (answer.path("is_compatible").asBoolean(false)) {
            return List.of();
        }
        List<String> messages = new ArrayList<>();
        answer.path("messages").forEach(m -> messages.add(m.asText()));
        return messages.isEmpty() ? List.of("incompatible (the registry gave no reason)") : messages;
    }

    // ---- config and mode

    /** The compatibility level of {@code subject} (null: the global one), falling back to the global level. */
    public CompatibilityLevel compatibility(String subject) {
        String path = subject == null ? "/config" : "/config/" + encode(subject) + "?defaultToGlobal=true";
        JsonNode answer = send("GET", path, null, subject, null);
        return CompatibilityLevel.parse(answer.path("compatibilityLevel").asText());
    }

    /** Sets the compatibility level of {@code subject} (null: the global one). */
    public void setCompatibility(String subject, CompatibilityLevel level) {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
        send("PUT", subject == null ? "/config" : "/config/" + encode(subject), body, subject, null);
    }

    /** The mode (READWRITE, READONLY, IMPORT, ...) of {@code subject} (null: the global one). */
    public String mode(String subject) {
        String path = subject == null ? "/mode" : "/mode/" + encode(subject) + "?defaultToGlobal=true";
        return send("GET", path, null, subject, null).path("mode").asText();
    }

    public void setMode(String subject, String mode) {
        ObjectNode body = JSON.createObjectNode().put("mode", mode);
        send("PUT", subject == null ? "/mode" : "/mode/" + encode(subject), body, subject, null);
    }

    // ---- plumbing

    private static ObjectNode schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString());
    }

    private RegisteredSchema registered(JsonNode answer, String subject) {
        int id = answer.path("id").asInt(-1);
        Schema schema = schemasById.get(id);
        if (schema == null) {
            schema = parse(answer.path("schema").asText(), subject, id);
            schemasById.putIfAbsent(id, schema);
        }
        return new RegisteredSchema(answer.path("subject").asText(subject), id, answer.path("version").asInt(-1),
                schema);
    }

    private static Schema parse(String text, String subject, Integer id) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException("registry returned a schema that does not parse (id " + id + "): "
                    + e.getMessage(), 200, -1, subject, id, e);
        }
    }

    private static List<Integer> intList(JsonNode answer) {
        List<Integer> values = new ArrayList<>();
        answer.forEach(n -> values.add(n.asInt()));
        return values;
    }

    private static String encode(String pathSegment) {
        Objects.requireNonNull(pathSegment, "subject and version must not be null");
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String pathAndQuery, JsonNode body, String subject, Integer id) {
        String request = method + " " + pathAndQuery;
        SchemaRegistryException unreachable = null;
        for (URI base : baseUris) {
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                    .timeout(requestTimeout)
                    .header("Accept", CONTENT_TYPE + ", application/json")
                    .method(method, body == null
                            ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (body != null) {
                builder.header("Content-Type", CONTENT_TYPE);
            }
            if (authorization != null) {
                builder.header("Authorization", authorization);
            }
            HttpResponse<String> response;
            try {
                response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                unreachable = new SchemaRegistryException("schema registry " + base + " unreachable for " + request
                        + ": " + e, -1, -1, subject, id, e);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("interrupted during " + request, -1, -1, subject, id, e);
            }
            return answer(base, request, response, subject, id);
        }
        throw unreachable;
    }

    private static JsonNode answer(URI base, String request, HttpResponse<String> response, String subject,
                                   Integer id) {
        int status = response.statusCode();
        JsonNode json;
        try {
            json = response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
        } catch (JsonProcessingException e) {
            json = null;
        }
        if (status / 100 == 2 && json != null) {
            return json;
        }
        int errorCode = json == null ? -1 : json.path("error_code").asInt(-1);
        String message = json == null ? abbreviate(response.body()) : json.path("message").asText("");
        StringBuilder text = new StringBuilder("schema registry ").append(base).append(" answered ").append(request)
                .append(" with HTTP ").append(status);
        if (errorCode >= 0) {
            text.append(", error_code ").append(errorCode);
        }
        if (subject != null) {
            text.append(", subject '").append(subject).append('\'');
        }
        if (id != null) {
            text.append(", schema id ").append(id);
        }
        if (!message.isEmpty()) {
            text.append(": ").append(message);
        }
        throw new SchemaRegistryException(text.toString(), status, errorCode, subject, id, null);
    }

    private static String abbreviate(String body) {
        return body.length() <= 200 ? body : body.substring(0, 200) + "...";
    }
}
