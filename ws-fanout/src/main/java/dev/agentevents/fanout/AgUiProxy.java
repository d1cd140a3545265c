package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;

/**
 * Passes an AG-UI request on to the node that serves the user's partition and streams its answer back, so an agent
 * UI may call any node (through any load balancer). The owner's address comes from its advertised WebSocket URL
 * ({@code ws://host:port/prefix/ws} → {@code http://host:port/prefix/ag-ui…}); the credentials, the body and
 * {@code Last-Event-ID} go with the request, marked so the owner never passes it on again.
 */
final class AgUiProxy implements AutoCloseable {

    private final HttpClient client;

    AgUiProxy(Vertx vertx) {
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000));
    }

    /** The owner's URL for {@code path} (with its query), from the owner's advertised WebSocket URL. */
    static String target(String ownerWebSocketUrl, String pathAndQuery) {
        URI ws = URI.create(ownerWebSocketUrl);
        String scheme = "wss".equals(ws.getScheme()) ? "https" : "http";
        String prefix = ws.getPath() == null ? "" : ws.getPath().replaceFirst("/ws$", "");
        int port = ws.getPort() > 0 ? ws.getPort() : ("https".equals(scheme) ? 443 : 80);
        return scheme + "://" + ws.getHost() + ":" + port + prefix + pathAndQuery;
    }

    void forward(RoutingContext ctx, String ownerWebSocketUrl, Buffer body) {
        HttpServerRequest request = ctx.request();
        RequestOptions options = new RequestOptions().setMethod(request.method())
                .setAbsoluteURI(target(ownerWebSocketUrl, request.uri())).putHeader(AgUiTransport.FORWARDED, "1");
        for (String name : new String[] {HttpHeaders.AUTHORIZATION.toString(), "Last-Event-ID",
                HttpHeaders.CONTENT_TYPE.toString(), HttpHeaders.ACCEPT.toString(), HttpHeaders.ORIGIN.toString()}) {
            String value = request.getHeader(name);
            if (value != null) {
                options.putHeader(name, value);
            }
        }
        client.request(options).compose(upstream -> {
            ctx.response().closeHandler(v -> upstream.reset());
            return body == null ? upstream.send() : upstream.send(body);
        }).onComplete(answer -> {
            if (answer.failed()) {
                if (!ctx.response().ended()) {
                    ctx.response().putHeader("Retry-After", "1");
                    FanoutVerticle.json(ctx, 503, new JsonObject().put("error", "the node serving this user did not"
                            + " answer: " + answer.cause().getMessage()));
                }
                return;
            }
            var upstream = answer.result();
            var response = ctx.response().setStatusCode(upstream.statusCode()).setChunked(true);
            String type = upstream.getHeader(HttpHeaders.CONTENT_TYPE);
            if (type != null) {
                response.putHeader(HttpHeaders.CONTENT_TYPE, type);
            }
            response.putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").putHeader("X-Accel-Buffering", "no");
            upstream.handler(response::write);
            upstream.endHandler(v -> {
                if (!response.ended()) {
                    response.end();
                }
            });
            upstream.exceptionHandler(e -> {
                if (!response.ended()) {
                    response.end();
                }
            });
        });
    }

    @Override
    public void close() {
        client.close();
    }
}
