package dev.agentevents.embedded;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.io.IOException;
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
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema registry speaking Confluent's REST API (Avro schemas), for the embedded default and for tests;
 * production uses Confluent's own image. State lives in a compacted single-partition Kafka topic (see
 * {@link SchemaLog}), so the registry survives its own restart with every id unchanged. One instance may write
 * a topic at a time (a second is fenced by the log's transactional id).
 *
 * <p>The endpoints are {@link RegistryApi}'s. Errors are {@code {"error_code":…,"message":…}} with Confluent's codes;
 * unknown paths answer 404. {@link RegistryMain} runs one from the environment.
 */
public final class SchemaRegistryServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);

    private final RegistryConfig config;
    private final SchemaLog log;
    private final HttpServer http;
    private final ExecutorService workers;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final RegistryApi api = new RegistryApi(new LockedStore());
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

    /** Reads and writes of the state for {@link RegistryApi}: reads under the read lock, writes logged first. */
    private final class LockedStore implements RegistryApi.Store {

        @Override
        public <T> T read(Function<RegistryState, T> query) {
            refreshIfStale();
            lock.readLock().lock();
            try {
                return query.apply(state);
            } finally {
                lock.readLock().unlock();
            }
        }

        @Override
        public <T> T write(Function<RegistryState, RegistryApi.Planned<T>> command) {
            refreshIfStale();
            lock.writeLock().lock();
            try {
                RegistryState current = state;
                RegistryApi.Planned<T> planned = command.apply(current);
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
                answer = api.answer(exchange.getRequestMethod(), segments(exchange.getRequestURI().getRawPath()),
                        query(exchange.getRequestURI().getRawQuery()), exchange.getRequestBody());
            } catch (RegistryError e) {
                status = e.httpStatus();
                answer = RegistryState.JSON.createObjectNode().put("error_code", e.errorCode())
                        .put("message", e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("registry request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                status = 500;
                answer = RegistryState.JSON.createObjectNode().put("error_code", RegistryError.STORE_ERROR)
                        .put("message", "Internal error: " + e);
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
}
