package dev.agentevents.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentevents.schemas.SchemaRegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema registry speaking Confluent's REST API (Avro schemas), for the embedded default and for tests;
 * production uses Confluent's own image. State lives in a compacted single-partition Kafka topic (see
 * {@link SchemaLog}), so the registry survives its own restart with every id unchanged. One instance may write
 * a topic at a time (a second is fenced by the log's transactional id).
 *
 * <p>Endpoints: {@code /subjects}, {@code /subjects/{s}} (lookup, delete), {@code /subjects/{s}/versions[/{v}[/schema]]}
 * (register, read, delete), {@code /schemas/ids/{id}[/schema|/versions|/subjects]}, {@code /schemas/types},
 * {@code /compatibility/subjects/{s}/versions[/{v}]}, {@code /config[/{s}]}, {@code /mode[/{s}]}, and
 * {@code /health}. Errors are {@code {"error_code":…,"message":…}} with Confluent's codes; unknown paths answer 404.
 */
public final class SchemaRegistryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);

    private final RegistryConfig config;
    private final SchemaLog log;
    private final HttpServer http;
    private final ExecutorService workers;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile RegistryState state;
    private volatile boolean stale;

    private SchemaRegistryServer(RegistryConfig config, SchemaLog log, HttpServer http, ExecutorService workers) {
        this.config = config;
        this.log = log;
        this.http = http;
        this.workers = workers;
    }

    /** Creates the topic if needed, reads it, and starts serving; returns once requests are answered. */
    public static SchemaRegistryServer start(RegistryConfig config) {
        long t0 = System.nanoTime();
        SchemaLog log = new SchemaLog(config.kafka().bootstrapServers(), config.topic(), stringMap(config));
        HttpServer http = null;
        ExecutorService workers = null;
        try {
            log.ensureTopic(config.replicationFactor());
            http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
            workers = Executors.newFixedThreadPool(4, r -> {
                Thread thread = new Thread(r, "schema-registry-http");
                thread.setDaemon(true);
                return thread;
            });
            SchemaRegistryServer server = new SchemaRegistryServer(config, log, http, workers);
            server.state = server.readLog();
            http.setExecutor(workers);
            http.createContext("/", server::handle);
            http.start();
            LOG.info("schema registry serving {} from topic '{}' after {} ms", server.url(), config.topic(),
                    (System.nanoTime() - t0) / 1_000_000);
            return server;
        } catch (IOException e) {
            log.close();
            if (workers != null) {
                workers.shutdownNow();
            }
            throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.port(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.close();
            throw new IllegalStateException("interrupted while starting the schema registry", e);
        } catch (RuntimeException e) {
            log.close();
            if (http != null) {
                http.stop(0);
            }
            if (workers != null) {
                workers.shutdownNow();
            }
            throw e;
        }
    }

    private static Map<String, String> stringMap(RegistryConfig config) {
        Map<String, String> overrides = new HashMap<>(config.kafka().properties());
        overrides.remove("bootstrap.servers");
        return overrides;
    }

    /** {@code http://host:port}. */
    public String url() {
        return "http://" + config.host() + ":" + port();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** A client of this registry. */
    public SchemaRegistryClient client() {
        return new SchemaRegistryClient(url());
    }

    private RegistryState readLog() {
        RegistryState fresh = new RegistryState(config.defaultCompatibility());
        log.replay(fresh::apply);
        return fresh;
    }

    @Override
    public void close() {
        http.stop(0);
        workers.shutdownNow();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.close();
    }

    // ---------------------------------------------------------------- access to state

    private <T> T read(Supplier<T> query) {
        refreshIfStale();
        lock.readLock().lock();
        try {
            return query.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Plans with the current state, appends the plan to the log, then applies it: all under the write lock. */
    private <T> T write(java.util.function.Function<RegistryState, Planned<T>> command) {
        refreshIfStale();
        lock.writeLock().lock();
        try {
            RegistryState current = state;
            Planned<T> planned = command.apply(current);
            try {
                log.append(planned.records());
            } catch (RegistryError e) {
                stale = true;
                throw e;
            }
            planned.records().forEach(r -> current.apply(r.key(), r.value()));
            return planned.answer();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private record Planned<T>(List<RegistryState.LogRecord> records, T answer) {
    }

    /** After a failed append the log may hold more than memory does: read it again before answering. */
    private void refreshIfStale() {
        if (!stale) {
            return;
        }
        lock.writeLock().lock();
        try {
            if (stale) {
                try {
                    state = readLog();
                    stale = false;
                } catch (RuntimeException e) {
                    throw new RegistryError(500, RegistryError.STORE_ERROR,
                            "cannot re-read schema topic '" + config.topic() + "': " + e.getMessage());
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange exchange) {
        try (exchange) {
            int status = 200;
            Object answer;
            try {
                answer = route(exchange.getRequestMethod(), segments(exchange.getRequestURI().getRawPath()),
                        query(exchange.getRequestURI().getRawQuery()), exchange.getRequestBody());
            } catch (RegistryError e) {
                status = e.httpStatus();
                answer = error(e.errorCode(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("registry request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                status = 500;
                answer = error(RegistryError.STORE_ERROR, "Internal error: " + e);
            }
            byte[] body = (answer instanceof String text ? text : answer.toString()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", SchemaRegistryClient.CONTENT_TYPE);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
        } catch (IOException e) {
            LOG.debug("client went away: {}", e.toString());
        }
    }

    private static ObjectNode error(int code, String message) {
        return RegistryState.JSON.createObjectNode().put("error_code", code).put("message", message);
    }

    private static RegistryError notFound() {
        return RegistryError.notFound(404, "HTTP 404 Not Found");
    }

    private static RegistryError methodNotAllowed() {
        return new RegistryError(405, 405, "HTTP 405 Method Not Allowed");
    }

    private Object route(String method, List<String> path, Map<String, String> query, InputStream body)
            throws IOException {
        boolean deleted = "true".equalsIgnoreCase(query.get("deleted"));
        if (path.isEmpty()) {
            return RegistryState.JSON.createObjectNode();
        }
        return switch (path.get(0)) {
            case "health" -> RegistryState.JSON.createObjectNode().put("status", "UP");
            case "schemas" -> schemas(method, path, deleted);
            case "subjects" -> subjects(method, path, query, deleted, body);
            case "compatibility" -> compatibility(method, path, query, body);
            case "config" -> config(method, path, query, body);
            case "mode" -> mode(method, path, query, body);
            default -> throw notFound();
        };
    }

    private Object schemas(String method, List<String> path, boolean deleted) {
        if (!method.equals("GET")) {
            throw methodNotAllowed();
        }
        if (path.size() == 2 && path.get(1).equals("types")) {
            return RegistryState.JSON.createArrayNode().add("AVRO");
        }
        if (path.size() < 3 || !path.get(1).equals("ids") || path.size() > 4) {
            throw notFound();
        }
        int id;
        try {
            id = Integer.parseInt(path.get(2));
        } catch (NumberFormatException e) {
            throw RegistryError.notFound(RegistryError.SCHEMA_NOT_FOUND, "Schema " + path.get(2) + " not found");
        }
        if (path.size() == 3) {
            return RegistryState.JSON.createObjectNode().put("schema", read(() -> state.schemaTextOrThrow(id)));
        }
        return switch (path.get(3)) {
            case "schema" -> read(() -> state.schemaTextOrThrow(id));
            case "versions" -> read(() -> {
                ArrayNode list = RegistryState.JSON.createArrayNode();
                state.versionsOfId(id, deleted).forEach(v ->
                        list.addObject().put("subject", v.subject()).put("version", v.version()));
                return list;
            });
            case "subjects" -> read(() -> {
                ArrayNode list = RegistryState.JSON.createArrayNode();
                state.subjectsOfId(id, deleted).forEach(list::add);
                return list;
            });
            default -> throw notFound();
        };
    }

    private Object subjects(String method, List<String> path, Map<String, String> query, boolean deleted,
                            InputStream body) throws IOException {
        if (path.size() == 1) {
            if (!method.equals("GET")) {
                throw methodNotAllowed();
            }
            return read(() -> {
                ArrayNode list = RegistryState.JSON.createArrayNode();
                state.subjectNames(deleted, query.get("subjectPrefix")).forEach(list::add);
                return list;
            });
        }
        String subject = path.get(1);
        boolean permanent = "true".equalsIgnoreCase(query.get("permanent"));
        if (path.size() == 2) {
            return switch (method) {
                case "POST" -> {
                    JsonNode request = json(body);
                    RegistryState.Version found = read(() -> state.lookup(subject, text(request, "schema"), deleted));
                    yield versionJson(found, read(() -> state.schemaTextOrThrow(found.id())));
                }
                case "DELETE" -> write(s -> {
                    List<RegistryState.LogRecord> records = s.planDeleteSubject(subject, permanent);
                    ArrayNode versions = RegistryState.JSON.createArrayNode();
                    s.versionsAffectedBy(records).forEach(versions::add);
                    return new Planned<>(records, versions);
                });
                default -> throw methodNotAllowed();
            };
        }
        if (!path.get(2).equals("versions") || path.size() > 5) {
            throw notFound();
        }
        if (path.size() == 3) {
            return switch (method) {
                case "GET" -> read(() -> {
                    ArrayNode list = RegistryState.JSON.createArrayNode();
                    state.versions(subject, deleted).forEach(v -> list.add(v.version()));
                    return list;
                });
                case "POST" -> {
                    JsonNode request = json(body);
                    Integer id = request.hasNonNull("id") ? request.get("id").asInt() : null;
                    Integer version = request.hasNonNull("version") ? request.get("version").asInt() : null;
                    String schemaType = request.hasNonNull("schemaType") ? request.get("schemaType").asText() : null;
                    yield write(s -> {
                        RegistryState.Registration registration = s.planRegister(subject, text(request, "schema"),
                                schemaType, request.get("references"), id, version);
                        return new Planned<>(registration.records(),
                                RegistryState.JSON.createObjectNode().put("id", registration.id()));
                    });
                }
                default -> throw methodNotAllowed();
            };
        }
        String version = path.get(3);
        if (path.size() == 5) {
            if (!path.get(4).equals("schema")) {
                throw notFound();
            }
            if (!method.equals("GET")) {
                throw methodNotAllowed();
            }
            return read(() -> state.schemaTextOrThrow(state.version(subject, version, deleted).id()));
        }
        return switch (method) {
            case "GET" -> read(() -> {
                RegistryState.Version found = state.version(subject, version, deleted);
                return versionJson(found, state.schemaTextOrThrow(found.id()));
            });
            case "DELETE" -> write(s -> {
                List<RegistryState.LogRecord> records = s.planDeleteVersion(subject, version, permanent);
                return new Planned<>(records, RegistryState.JSON.getNodeFactory()
                        .numberNode(records.get(0).key().path("version").asInt()));
            });
            default -> throw methodNotAllowed();
        };
    }

    private Object compatibility(String method, List<String> path, Map<String, String> query, InputStream body)
            throws IOException {
        if (path.size() < 4 || path.size() > 5 || !path.get(1).equals("subjects") || !path.get(3).equals("versions")) {
            throw notFound();
        }
        if (!method.equals("POST")) {
            throw methodNotAllowed();
        }
        String subject = path.get(2);
        String version = path.size() == 5 ? path.get(4) : null;
        JsonNode request = json(body);
        List<String> problems = read(() -> state.incompatibilities(subject, text(request, "schema"), version));
        ObjectNode answer = RegistryState.JSON.createObjectNode().put("is_compatible", problems.isEmpty());
        if ("true".equalsIgnoreCase(query.get("verbose"))) {
            ArrayNode messages = answer.putArray("messages");
            problems.forEach(messages::add);
        }
        return answer;
    }

    private Object config(String method, List<String> path, Map<String, String> query, InputStream body)
            throws IOException {
        if (path.size() > 2) {
            throw notFound();
        }
        String subject = path.size() == 2 ? path.get(1) : null;
        return switch (method) {
            case "GET" -> read(() -> {
                String level = subject == null ? state.globalLevel().name()
                        : state.subjectLevel(subject).map(Enum::name).orElseGet(() -> {
                            if ("true".equalsIgnoreCase(query.get("defaultToGlobal"))) {
                                return state.globalLevel().name();
                            }
                            throw RegistryError.notFound(RegistryError.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                                    "Subject '" + subject + "' does not have subject-level compatibility configured");
                        });
                return RegistryState.JSON.createObjectNode().put("compatibilityLevel", level);
            });
            case "PUT" -> {
                JsonNode request = json(body);
                yield write(s -> {
                    RegistryState.LogRecord record = s.planCompatibility(subject, request.path("compatibility")
                            .asText(request.path("compatibilityLevel").asText(null)));
                    return new Planned<>(List.of(record), RegistryState.JSON.createObjectNode()
                            .put("compatibility", record.value().path("compatibilityLevel").asText()));
                });
            }
            case "DELETE" -> write(s -> {
                String previous = subject == null ? s.globalLevel().name()
                        : s.subjectLevel(subject).map(Enum::name).orElse(null);
                return new Planned<>(List.of(s.planDeleteCompatibility(subject)),
                        RegistryState.JSON.createObjectNode().put("compatibilityLevel", previous));
            });
            default -> throw methodNotAllowed();
        };
    }

    private Object mode(String method, List<String> path, Map<String, String> query, InputStream body)
            throws IOException {
        if (path.size() > 2) {
            throw notFound();
        }
        String subject = path.size() == 2 ? path.get(1) : null;
        return switch (method) {
            case "GET" -> read(() -> {
                String mode = subject == null ? state.globalMode() : state.subjectMode(subject).orElseGet(() -> {
                    if ("true".equalsIgnoreCase(query.get("defaultToGlobal"))) {
                        return state.globalMode();
                    }
                    throw RegistryError.notFound(RegistryError.SUBJECT_MODE_NOT_CONFIGURED,
                            "Subject '" + subject + "' does not have subject-level mode configured");
                });
                return RegistryState.JSON.createObjectNode().put("mode", mode);
            });
            case "PUT" -> {
                JsonNode request = json(body);
                boolean force = "true".equalsIgnoreCase(query.get("force"));
                yield write(s -> {
                    RegistryState.LogRecord record = s.planMode(subject, request.path("mode").asText(null), force);
                    return new Planned<>(List.of(record), RegistryState.JSON.createObjectNode()
                            .put("mode", record.value().path("mode").asText()));
                });
            }
            case "DELETE" -> {
                if (subject == null) {
                    throw methodNotAllowed();
                }
                yield write(s -> {
                    RegistryState.LogRecord record = s.planDeleteMode(subject);
                    return new Planned<>(List.of(record), RegistryState.JSON.createObjectNode()
                            .put("mode", s.subjectMode(subject).orElse(null)));
                });
            }
            default -> throw methodNotAllowed();
        };
    }

    private static ObjectNode versionJson(RegistryState.Version version, String schema) {
        return RegistryState.JSON.createObjectNode()
                .put("subject", version.subject())
                .put("version", version.version())
                .put("id", version.id())
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
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
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

    private static List<String> segments(String rawPath) {
        List<String> segments = new ArrayList<>();
        for (String raw : rawPath.split("/")) {
            if (!raw.isEmpty()) {
                segments.add(URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return segments;
    }

    private static Map<String, String> query(String rawQuery) {
        Map<String, String> params = new HashMap<>();
        if (rawQuery == null) {
            return params;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(name, value);
        }
        return params;
    }

    /** Runs a registry configured from the environment (see {@link RegistryConfig}) until the JVM stops. */
    public static void main(String[] args) throws InterruptedException {
        SchemaRegistryServer server = start(RegistryConfig.fromEnv(System.getenv()));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "schema-registry-shutdown"));
        System.out.println("READY registry=" + server.url());
        Thread.currentThread().join();
    }
}
