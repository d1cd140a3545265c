package dev.agentevents.fanout;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of a fanout node (one instance per event loop, sharing the port): {@code GET /route},
 * {@code GET /ws} ({@link WebSocketTransport}), {@code GET /events} ({@link SseTransport}), {@code /health},
 * {@code /metrics}, the browser client {@code /agent-events-client.js}, and in demo mode {@code /dev/token} and the
 * demo page at {@code /}. Client protocol v1: see {@code docs/protocol.md}.
 */
final class FanoutVerticle extends VerticleBase {

    /** What every verticle of a node shares. */
    record Shared(FanoutConfig config, int port, PartitionFeed feed, SubscriberRegistry registry,
                  OwnerDirectory owners, CatchUpReader catchUp, OffsetLookup offsets, TokenVerifier tokens,
                  Tickets tickets, ConnectionLimits limits, FanoutMetrics metrics, String advertisedUrl,
                  String clientScript, String agUiScript) {
    }

    private final Shared shared;
    private final FanoutConfig config;
    private Connections connections;
    private AgUiProxy proxy;
    private Admission admission;
    private HttpServer server;

    FanoutVerticle(Shared shared) {
        this.shared = shared;
        this.config = shared.config();
    }

    @Override
    public Future<?> start() {
        FanoutMetrics metrics = shared.metrics();
        connections = new Connections(metrics);
        admission = new Admission(vertx, config, shared.tokens(), shared.tickets(), shared.registry(), shared.feed(),
                shared.owners(), shared.limits(), shared.advertisedUrl(), metrics);
        ConnectionStart start = new ConnectionStart(config, shared.registry(), shared.catchUp(), metrics);
        WebSocketTransport webSocket = new WebSocketTransport(vertx, config, admission, shared.tokens(), start,
                connections, metrics);
        SseTransport sse = new SseTransport(vertx, config, admission, start, connections, metrics);
        proxy = new AgUiProxy(vertx);
        AgUiTransport agUi = new AgUiTransport(vertx, config, admission, start, connections, shared.offsets(), proxy,
                metrics);

        Router router = Router.router(vertx);
        router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(((PrometheusMeterRegistry) metrics.registry()).scrape()));
        router.get("/route").handler(this::route);
        router.get("/ws").handler(webSocket::handle);
        router.route().handler(cors());
        router.get("/events").handler(sse::handle);
        agUi.mount(router);
        router.get("/agent-events-client.js").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(shared.clientScript()));
        router.get("/agent-events-ag-ui.js").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(shared.agUiScript()));
        if (config.demo()) {
            router.get("/dev/token").handler(this::demoToken);
            router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
        }
        long interval = config.clients().pingInterval().toMillis();
        vertx.setPeriodic(interval, id -> connections.heartbeat(interval));
        // Netty drops the connection (1006) on anything past this hard ceiling; below it, messages over
        // FANOUT_MAX_CLIENT_FRAME_BYTES get a proper 1009 close from the text handler
        int ceiling = Math.max(WebSocketTransport.SINGLE_FRAME_BYTES, config.clients().maxClientFrameBytes());
        FanoutConfig.ClientLimits clients = config.clients();
        HttpServerOptions options = new HttpServerOptions()
                .setMaxWebSocketFrameSize(ceiling)
                .setMaxWebSocketMessageSize(ceiling)
                .setTcpNoDelay(true)
                .setMaxHeaderSize(8192)
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setIdleTimeout((int) clients.idleTimeout().toMillis())
                .setPerFrameWebSocketCompressionSupported(false)
                .setPerMessageWebSocketCompressionSupported(clients.compression());
        if (clients.compression()) {
            // the cheapest deflate, and no sliding window kept per connection where the client agrees to it
            options.setWebSocketCompressionLevel(1).setWebSocketAllowServerNoContext(true)
                    .setWebSocketPreferredClientNoContext(true);
        }
        return vertx.createHttpServer(options).requestHandler(router).listen(shared.port(), config.host())
                .onSuccess(s -> server = s);
    }

    /**
     * Cross-origin reads of {@code /route}, {@code /events} and {@code /ag-ui} by pages of {@code FANOUT_ALLOWED_ORIGINS}
     * (WebSocket upgrades check the origin themselves).
     */
    private CorsHandler cors() {
        CorsHandler cors = CorsHandler.create().allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
                .allowedHeaders(Set.of("Authorization", "Content-Type", "Last-Event-ID", "Accept"));
        for (String origin : config.clients().allowedOrigins()) {
            cors.addOrigin(origin);
        }
        return cors;
    }

    private void health(RoutingContext ctx) {
        boolean ready = shared.feed().isReady();
        json(ctx, ready ? 200 : 503, new JsonObject().put("status", ready ? "UP" : "DOWN")
                .put("node", config.nodeId()).put("partitions", shared.registry().ownedPartitions().size()));
    }

    /**
     * {@code GET /route}: where the token's user is served now, and a single-use ticket that opens the stream there
     * (503 with {@code Retry-After} while nowhere). The token comes in the {@code Authorization} header only.
     */
    private void route(RoutingContext ctx) {
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
                : null;
        admission.routeFor(token).onComplete(identity -> {
            if (identity.failed()) {
                json(ctx, 401, new JsonObject().put("error", "invalid or missing token: "
                        + identity.cause().getMessage()));
                return;
            }
            int partition = admission.partitionOf(identity.result().userId());
            admission.ownerOf(partition).onComplete(owner -> {
                if (owner.result() == null) {
                    ctx.response().putHeader("Retry-After", "1");
                    json(ctx, 503, new JsonObject().put("error", "no node serves partition " + partition
                            + " right now (rebalancing); retry").put("partition", partition));
                } else {
                    json(ctx, 200, new JsonObject().put("url", owner.result()).put("partition", partition)
                            .put("ticket", admission.ticketFor(identity.result())));
                }
            });
        });
    }

    private void demoToken(RoutingContext ctx) {
        String user = ctx.request().getParam("user");
        String problem = user == null || user.isBlank() || user.length() > 64 ? "give ?user=<id> (1 to 64 characters)"
                : UserIds.problem(user.trim(), config.tokens().maxUserIdBytes());
        if (problem != null) {
            json(ctx, 400, new JsonObject().put("error", problem));
            return;
        }
        json(ctx, 200, new JsonObject().put("token", shared.tokens().issue(user.trim(), config.demoTokenTtl()))
                .put("user", user.trim()));
    }

    static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body.encode());
    }

    /** Closes every connection of this verticle at once, as a crash or network cut would (tests and drills). */
    void disconnectAll() {
        connections.disconnectAll();
    }

    int connectionCount() {
        return connections == null ? 0 : connections.count();
    }

    @Override
    public Future<?> stop() {
        if (proxy != null) {
            proxy.close();
        }
        return server == null ? Future.succeededFuture() : server.close();
    }
}
