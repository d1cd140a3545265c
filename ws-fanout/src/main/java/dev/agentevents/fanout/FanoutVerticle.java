package dev.agentevents.fanout;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a fanout node (one instance per event loop, sharing the port): {@code GET /route},
 * {@code GET /ws} (WebSocket), {@code GET /events} (Server-Sent Events), {@code /health}, {@code /metrics}, the
 * browser client {@code /agent-events-client.js}, and in demo mode {@code /dev/token} and the demo page at
 * {@code /}. Client protocol v1: see the README.
 */
final class FanoutVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(FanoutVerticle.class);

    static final short UNAUTHORIZED = 4401;
    static final short FORBIDDEN = 4403;
    static final short TOO_MANY_CONNECTIONS = 4429;
    static final short POLICY_VIOLATION = 1008;
    static final short UNSUPPORTED_DATA = 1003;
    static final short MESSAGE_TOO_BIG = 1009;

    private final FanoutConfig config;
    private final int port;
    private final String advertisedUrl;
    private final PartitionFeed feed;
    private final TokenVerifier tokens;
    private final FanoutMetrics metrics;
    private final String clientScript;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private HttpServer server;

    FanoutVerticle(FanoutConfig config, int port, String advertisedUrl, PartitionFeed feed, TokenVerifier tokens,
                   FanoutMetrics metrics, String clientScript) {
        this.config = config;
        this.port = port;
        this.advertisedUrl = advertisedUrl;
        this.feed = feed;
        this.tokens = tokens;
        this.metrics = metrics;
        this.clientScript = clientScript;
    }

    /** A live connection of this verticle, for heartbeats and forced disconnects. */
    private static final class Connection {
        final Subscriber subscriber;
        final Runnable ping;
        final Runnable kill;
        volatile long lastPongMs = System.currentTimeMillis();

        Connection(Subscriber subscriber, Runnable ping, Runnable kill) {
            this.subscriber = subscriber;
            this.ping = ping;
            this.kill = kill;
        }
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
        router.get("/health").handler(ctx -> {
            boolean ready = feed.isReady();
            json(ctx, ready ? 200 : 503, new JsonObject().put("status", ready ? "UP" : "DOWN")
                    .put("node", config.nodeId()).put("partitions", feed.ownedPartitions().size()));
        });
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(((io.micrometer.prometheusmetrics.PrometheusMeterRegistry) metrics.registry()).scrape()));
        router.get("/route").handler(this::route);
        router.get("/ws").handler(this::webSocket);
        router.get("/events").handler(this::events);
        router.get("/agent-events-client.js").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/javascript; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(clientScript));
        if (config.demo()) {
            router.get("/dev/token").handler(this::demoToken);
            router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
        }
        long interval = config.pingInterval().toMillis();
        vertx.setPeriodic(interval, id -> heartbeat(interval));
        // Netty drops the connection (1006) on anything past this hard ceiling; below it, messages over
        // FANOUT_MAX_CLIENT_FRAME_BYTES get a proper 1009 close from the text handler
        int ceiling = Math.max(65_536, config.maxClientFrameBytes());
        HttpServerOptions options = new HttpServerOptions()
                .setMaxWebSocketFrameSize(ceiling)
                .setMaxWebSocketMessageSize(ceiling)
                .setTcpNoDelay(true);
        return vertx.createHttpServer(options).requestHandler(router).listen(port, config.host())
                .onSuccess(s -> server = s);
    }

    // ---------------------------------------------------------------- routes

    private void route(RoutingContext ctx) {
        tokens.userOf(token(ctx.request())).onComplete(user -> {
            if (user.failed()) {
                metrics.refused("token");
                json(ctx, 401, new JsonObject().put("error", "invalid or missing token: " + user.cause().getMessage()));
                return;
            }
            int partition = feed.partitionOf(user.result());
            ownerOf(partition).onComplete(owner -> {
                if (owner.result() == null) {
                    ctx.response().putHeader("Retry-After", "1");
                    json(ctx, 503, new JsonObject().put("error", "no node serves partition " + partition
                            + " right now (rebalancing); retry").put("partition", partition));
                } else {
                    json(ctx, 200, new JsonObject().put("url", owner.result()).put("partition", partition));
                }
            });
        });
    }

    private Future<String> ownerOf(int partition) {
        if (feed.owns(partition)) {
            return Future.succeededFuture(advertisedUrl);
        }
        return vertx.executeBlocking(() -> feed.ownerUrl(partition), false);
    }

    private void demoToken(RoutingContext ctx) {
        String user = ctx.request().getParam("user");
        if (user == null || user.isBlank() || user.length() > 64) {
            json(ctx, 400, new JsonObject().put("error", "give ?user=<id> (1 to 64 characters)"));
            return;
        }
        json(ctx, 200, new JsonObject().put("token", tokens.issue(user.trim(), Duration.ofHours(8)))
                .put("user", user.trim()));
    }

    private void webSocket(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (!config.originAllowed(origin)) {
            metrics.refused("origin");
            ctx.response().setStatusCode(403).end("origin " + origin + " is not allowed");
            return;
        }
        String token = token(request);
        String resume = request.getParam("resume");
        String runId = request.getParam("runId");
        String threadId = request.getParam("threadId");
        request.toWebSocket().onSuccess(socket -> {
            socket.pause();
            tokens.userOf(token).onComplete(user -> {
                if (socket.isClosed()) {
                    // the client went away while its token was checked: nothing to set up (its handlers would throw)
                    metrics.abandoned("websocket");
                    return;
                }
                if (user.failed()) {
                    metrics.refused("token");
                    socket.close(UNAUTHORIZED, "invalid or missing token");
                    return;
                }
                acceptSocket(socket, user.result(), parseResume(resume), runId, threadId);
            });
        }).onFailure(e -> LOG.debug("websocket upgrade failed: {}", e.toString()));
    }

    private void acceptSocket(ServerWebSocket socket, String userId, Resume resume, String runId, String threadId) {
        int partition = feed.partitionOf(userId);
        if (!feed.owns(partition)) {
            metrics.moved("wrong_node");
            ownerOf(partition).onComplete(owner -> {
                socket.writeTextMessage(Frame.moved(owner.result()).text());
                socket.close(Subscriber.MOVED, "moved");
            });
            return;
        }
        if (feed.connectionsOf(userId) >= config.maxConnectionsPerUser()) {
            metrics.refused("connections_per_user");
            socket.close(TOO_MANY_CONNECTIONS, "more than " + config.maxConnectionsPerUser()
                    + " connections for this user");
            return;
        }
        Subscriber subscriber = new Subscriber(userId, partition, runId, threadId, vertx.getOrCreateContext(),
                new Subscriber.Transport(socket, frame -> socket.writeTextMessage(frame.text()),
                        () -> !socket.isClosed(), socket::close),
                metrics, config.queueFrames(), config.queueBytes());
        Connection connection = track(subscriber, "websocket", () -> socket.writePing(Buffer.buffer()),
                () -> socket.close((short) 1001, "server closed the connection"));
        socket.closeHandler(v -> untrack(connection, "websocket"));
        socket.pongHandler(b -> connection.lastPongMs = System.currentTimeMillis());
        RateLimit limit = new RateLimit(config.maxClientMessagesPerSecond());
        socket.textMessageHandler(text -> {
            if (limit.refused) {
                return; // closed for an earlier message; the rest still in flight changes nothing
            }
            if (text.length() > config.maxClientFrameBytes()) {
                limit.refused = true;
                metrics.refused("client_message_size");
                socket.close(MESSAGE_TOO_BIG, "messages are limited to " + config.maxClientFrameBytes() + " bytes");
            } else if (!limit.allow()) {
                limit.refused = true;
                metrics.refused("client_message_rate");
                socket.close(POLICY_VIOLATION, "more than " + config.maxClientMessagesPerSecond()
                        + " messages per second");
            }
        });
        socket.binaryMessageHandler(b -> {
            if (limit.refused) {
                return;
            }
            limit.refused = true;
            metrics.refused("binary_frame");
            socket.close(UNSUPPORTED_DATA, "binary frames are not accepted");
        });
        socket.exceptionHandler(e -> LOG.debug("socket of {}: {}", userId, e.toString()));
        subscribe(subscriber, userId, partition, resume);
        socket.resume();
    }

    private void events(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (!config.originAllowed(origin)) {
            metrics.refused("origin");
            ctx.response().setStatusCode(403).end("origin " + origin + " is not allowed");
            return;
        }
        String lastEventId = request.getHeader("Last-Event-ID");
        Resume resume = parseResume(lastEventId != null ? lastEventId : request.getParam("resume"));
        tokens.userOf(token(request)).onComplete(user -> {
            if (ctx.response().closed()) {
                metrics.abandoned("sse");
                return;
            }
            if (user.failed()) {
                metrics.refused("token");
                json(ctx, 401, new JsonObject().put("error", "invalid or missing token"));
                return;
            }
            String userId = user.result();
            int partition = feed.partitionOf(userId);
            HttpServerResponse response = ctx.response();
            if (!feed.owns(partition)) {
                metrics.moved("wrong_node");
                ownerOf(partition).onComplete(owner -> startStream(response)
                        .end("data: " + Frame.moved(owner.result()).text() + "\n\n"));
                return;
            }
            if (feed.connectionsOf(userId) >= config.maxConnectionsPerUser()) {
                metrics.refused("connections_per_user");
                json(ctx, 429, new JsonObject().put("error", "too many connections for this user"));
                return;
            }
            startStream(response);
            Subscriber subscriber = new Subscriber(userId, partition, request.getParam("runId"),
                    request.getParam("threadId"), vertx.getOrCreateContext(), new Subscriber.Transport(response,
                            frame -> response.write((frame.hasPosition() ? "id: " + frame.partition() + ":"
                                    + frame.offset() + "\n" : "") + "data: " + frame.text() + "\n\n"),
                            () -> !response.ended() && !response.closed(),
                            (code, reason) -> {
                                if (!response.ended()) {
                                    response.end("event: close\ndata: " + new JsonObject().put("code", code)
                                            .put("reason", reason).encode() + "\n\n");
                                }
                            }), metrics, config.queueFrames(), config.queueBytes());
            Connection connection = track(subscriber, "sse", () -> {
                if (!response.ended()) {
                    response.write(": ping\n\n");
                }
            }, () -> request.connection().close());
            connection.lastPongMs = Long.MAX_VALUE;
            response.closeHandler(v -> untrack(connection, "sse"));
            subscribe(subscriber, userId, partition, resume);
        });
    }

    /** Counts and remembers a new connection; it unregisters from the feed when its subscriber closes. */
    private Connection track(Subscriber subscriber, String transport, Runnable ping, Runnable kill) {
        Connection connection = new Connection(subscriber, ping, kill);
        connections.add(connection);
        metrics.opened(transport);
        subscriber.onClosed(() -> feed.unregister(subscriber));
        return connection;
    }

    /** The connection went away, whatever the reason. */
    private void untrack(Connection connection, String transport) {
        if (connections.remove(connection)) {
            metrics.closed(transport);
        }
        connection.subscriber.disconnected();
    }

    private static HttpServerResponse startStream(HttpServerResponse response) {
        return response.setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }

    /** Welcome first, then whatever the resume position calls for, then live frames. */
    private void subscribe(Subscriber subscriber, String userId, int partition, Resume resume) {
        subscriber.control(Frame.welcome(userId, partition, config.nodeId(), resume == null ? "none"
                : resume.problem() != null ? "invalid" : resume.partition() + ":" + resume.offset()));
        Long offset = null;
        if (resume != null && resume.problem() != null) {
            subscriber.control(Frame.reset(resume.problem()));
            metrics.resumed("reset");
        } else if (resume != null && resume.partition() != partition) {
            subscriber.control(Frame.reset("resume position " + resume.partition() + ":" + resume.offset()
                    + " is not in partition " + partition + ", where your events are"));
            metrics.resumed("reset");
        } else if (resume != null) {
            offset = resume.offset();
        }
        PartitionFeed.Start start = feed.register(subscriber, offset);
        if (start instanceof PartitionFeed.NotOwned) {
            metrics.moved("rebalance");
            subscriber.closeAfter(Frame.moved(null), Subscriber.MOVED, "moved");
        } else if (start instanceof PartitionFeed.FromKafka range) {
            feed.catchUp(subscriber, range);
        } else if (start instanceof PartitionFeed.Live live && offset != null) {
            metrics.resumed(live.source());
        }
    }

    /** A resume position from {@code ?resume=} or {@code Last-Event-ID}, or why it could not be read. */
    record Resume(int partition, long offset, String problem) {
    }

    static Resume parseResume(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        int colon = text.indexOf(':');
        try {
            if (colon > 0) {
                int partition = Integer.parseInt(text.substring(0, colon).trim());
                long offset = Long.parseLong(text.substring(colon + 1).trim());
                if (partition >= 0 && offset >= -1) {
                    return new Resume(partition, offset, null);
                }
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        return new Resume(-1, -1, "resume position '" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
                + "' is not <partition>:<offset>; sending live events from now");
    }

    static String token(HttpServerRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).trim();
        }
        return request.getParam("access_token");
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body.encode());
    }

    // ---------------------------------------------------------------- heartbeats and shutdown

    private void heartbeat(long intervalMs) {
        long now = System.currentTimeMillis();
        for (Connection connection : connections) {
            if (now - connection.lastPongMs > 2 * intervalMs + 1000) {
                connection.kill.run();
            } else {
                connection.ping.run();
            }
        }
    }

    /** Closes every connection of this verticle at once, as a crash or network cut would (tests and drills). */
    void disconnectAll() {
        for (Connection connection : connections) {
            connection.kill.run();
        }
    }

    int connectionCount() {
        return connections.size();
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** At most {@code perSecond} client messages in any one-second window. */
    /** Messages a client sent in the current second; whether the connection was already closed for one. */
    private static final class RateLimit {
        private final int perSecond;
        private long windowStart = System.currentTimeMillis();
        private int count;
        boolean refused;

        RateLimit(int perSecond) {
            this.perSecond = perSecond;
        }

        boolean allow() {
            long now = System.currentTimeMillis();
            if (now - windowStart >= 1000) {
                windowStart = now;
                count = 0;
            }
            return ++count <= perSecond;
        }
    }
}
