package dev.agentevents.router;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/** {@code /metrics} (Prometheus text) and {@code /health} ({@code /health/live}, {@code /health/ready}) over HTTP. */
final class OpsServer implements AutoCloseable {

    /** Readiness: whether to answer 200, and the body to answer with. */
    record Health(boolean ready, String json) {
    }

    private final HttpServer server;

    OpsServer(String host, int port, Supplier<String> metrics, Supplier<Health> health) {
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for /metrics and /health", e);
        }
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "ops-http");
            thread.setDaemon(true);
            return thread;
        }));
        server.createContext("/metrics", exchange -> answer(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.get()));
        server.createContext("/health/live", exchange -> answer(exchange, 200, "application/json",
                "{\"status\":\"UP\"}"));
        server.createContext("/health", exchange -> {
            Health now = health.get();
            answer(exchange, now.ready() ? 200 : 503, "application/json", now.json());
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
