package dev.agentevents.fanout;

import dev.agentevents.fanout.FanoutMetrics.Refusal;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /ws}: protocol v1 over a WebSocket. Origin and the node's and address's connection limits are checked
 * before the upgrade (HTTP 403, 503, 429); the credentials after it, so that a refusal can be a close code (4401,
 * 4429) or a {@code moved} frame and 4009. The connection lives no longer than its token: {@code expiring} before
 * {@code exp}, then 4401 at {@code exp} unless the client sent {@code {"type":"refresh","token":…}} for the same user
 * (another user's token: 4403). Client messages are held to {@link ClientMessageLimit} (1009, 1008, 1003).
 */
final class WebSocketTransport {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTransport.class);

    static final short UNAUTHORIZED = 4401;
    static final short FORBIDDEN = 4403;
    static final short TOO_MANY_CONNECTIONS = 4429;
    static final short POLICY_VIOLATION = 1008;
    static final short UNSUPPORTED_DATA = 1003;
    static final short MESSAGE_TOO_BIG = 1009;
    /** The least maximum frame size the server is given ({@link FanoutVerticle}): a message up to it is one frame. */
    static final int SINGLE_FRAME_BYTES = 65_536;

    private final Vertx vertx;
    private final FanoutConfig config;
    private final Admission admission;
    private final TokenVerifier tokens;
    private final ConnectionStart start;
    private final Connections connections;
    private final FanoutMetrics metrics;

    WebSocketTransport(Vertx vertx, FanoutConfig config, Admission admission, TokenVerifier tokens,
                       ConnectionStart start, Connections connections, FanoutMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.admission = admission;
        this.tokens = tokens;
        this.start = start;
        this.connections = connections;
        this.metrics = metrics;
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        Admission.Entry entry = admission.enter(request);
        if (entry instanceof Admission.Refused refused) {
            if (refused.httpStatus() == 503) {
                ctx.response().putHeader("Retry-After", "5");
            }
            ctx.response().setStatusCode(refused.httpStatus()).end(refused.message());
            return;
        }
        ConnectionLimits.Reservation reservation = ((Admission.Entered) entry).reservation();
        Admission.Credentials credentials = Admission.Credentials.of(request);
        ResumePosition resume = ResumePosition.parse(request.getParam("resume"));
        String runId = request.getParam("runId");
        String threadId = request.getParam("threadId");
        request.toWebSocket().onSuccess(socket -> {
            socket.pause();
            admission.admit(credentials, reservation).onComplete(outcome -> {
                Admission.Outcome result = outcome.result();
                if (socket.isClosed()) {
                    // the client went away while its token was checked: nothing to set up (its handlers would throw)
                    metrics.abandoned(FanoutMetrics.Transport.WEBSOCKET);
                    if (result instanceof Admission.Admitted admitted) {
                        admitted.reservation().release();
                    }
                    return;
                }
                if (result instanceof Admission.Admitted admitted) {
                    accept(socket, admitted, resume, runId, threadId);
                } else if (result instanceof Admission.Elsewhere elsewhere) {
                    send(socket, Frame.moved(elsewhere.url()));
                    socket.close(Subscriber.MOVED, "moved");
                } else if (result instanceof Admission.Refused refused) {
                    boolean crowded = refused.refusal() == Refusal.CONNECTIONS_PER_USER;
                    socket.close(crowded ? TOO_MANY_CONNECTIONS : UNAUTHORIZED, reason(refused.message()));
                }
            });
        }).onFailure(e -> {
            reservation.release();
            LOG.debug("websocket upgrade failed: {}", e.toString());
        });
    }

    private void accept(ServerWebSocket socket, Admission.Admitted admitted, ResumePosition resume, String runId,
                        String threadId) {
        Subscriber subscriber = new Subscriber(admitted.userId(), admitted.partition(), runId, threadId,
                vertx.getOrCreateContext(), new Subscriber.Transport(socket, frame -> send(socket, frame),
                        () -> !socket.isClosed(), socket::close, true),
                metrics, config.clients().queueFrames(), config.clients().queueBytes());
        TokenLifetime lifetime = new TokenLifetime(vertx, admitted.identity().expiresAtMs(),
                config.tokens().expiryWarning(),
                () -> subscriber.control(Frame.expiring(seconds(admitted.identity().expiresAtMs()))),
                () -> {
                    metrics.refused(Refusal.TOKEN_EXPIRED);
                    subscriber.closeNow(UNAUTHORIZED, "token expired; connect again with a fresh one");
                });
        Connections.Connection connection = connections.track(subscriber, FanoutMetrics.Transport.WEBSOCKET,
                // once the subscriber exists, every close goes through it (here and below): it stops writing
                // before the close frame goes out (a frame the feed wrote straight to the socket after the close
                // frame was a protocol error to the browser)
                () -> socket.writePing(Buffer.buffer()),
                () -> subscriber.closeNow((short) 1001, "server closed the connection"),
                () -> {
                    lifetime.cancel();
                    admitted.reservation().release();
                });
        socket.closeHandler(v -> connections.untrack(connection));
        socket.pongHandler(b -> connection.ponged());
        ClientMessageLimit limit = new ClientMessageLimit(config.clients().maxClientFrameBytes(),
                config.clients().maxClientMessagesPerSecond());
        socket.textMessageHandler(text -> {
            switch (limit.text(text)) {
                case TOO_LARGE -> {
                    metrics.refused(Refusal.CLIENT_MESSAGE_SIZE);
                    subscriber.closeNow(MESSAGE_TOO_BIG, "messages are limited to "
                            + config.clients().maxClientFrameBytes() + " bytes");
                }
                case TOO_MANY -> {
                    metrics.refused(Refusal.CLIENT_MESSAGE_RATE);
                    subscriber.closeNow(POLICY_VIOLATION, "more than " + config.clients().maxClientMessagesPerSecond()
                            + " messages per second");
                }
                case ACCEPTED -> message(text, admitted.userId(), subscriber, lifetime, socket);
                default -> { }
            }
        });
        socket.binaryMessageHandler(b -> {
            if (limit.binary() == ClientMessageLimit.Verdict.BINARY) {
                metrics.refused(Refusal.BINARY_FRAME);
                subscriber.closeNow(UNSUPPORTED_DATA, "binary frames are not accepted");
            }
        });
        socket.exceptionHandler(e -> LOG.debug("socket of {}: {}", admitted.userId(), e.toString()));
        start.begin(subscriber, resume);
        socket.resume();
    }

    /**
     * One text message from the frame's shared UTF-8 bytes, as Vert.x's {@code writeTextMessage} would make it from
     * a string, without encoding the text again for every connection; a frame too large for one WebSocket frame
     * goes the usual way, split into continuation frames.
     */
    static void send(ServerWebSocket socket, Frame frame) {
        if (frame.utf8().length <= SINGLE_FRAME_BYTES) {
            socket.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, frame.utf8(), true));
        } else {
            socket.writeTextMessage(frame.text());
        }
    }

    /** A client message: {@code refresh} is the only one with a meaning; anything else is ignored. */
    private void message(String text, String userId, Subscriber subscriber, TokenLifetime lifetime,
                         ServerWebSocket socket) {
        JsonObject message;
        try {
            message = new JsonObject(text);
        } catch (RuntimeException e) {
            return;
        }
        if (!"refresh".equals(message.getValue("type"))) {
            return;
        }
        Object token = message.getValue("token");
        tokens.verify(token instanceof String s ? s : null).onComplete(identity -> {
            if (socket.isClosed()) {
                return;
            }
            if (identity.failed()) {
                metrics.refused(Refusal.TOKEN);
                subscriber.closeAfter(null, UNAUTHORIZED, reason("refresh refused: " + identity.cause().getMessage()));
            } else if (!identity.result().userId().equals(userId)) {
                metrics.refused(Refusal.REFRESH_OTHER_USER);
                subscriber.closeAfter(null, FORBIDDEN, "refresh token is for another user");
            } else {
                lifetime.renew(identity.result().expiresAtMs());
                subscriber.control(Frame.refreshed(seconds(identity.result().expiresAtMs())));
            }
        });
    }

    private static long seconds(long epochMs) {
        return epochMs == Long.MAX_VALUE ? -1 : epochMs / 1000;
    }

    /** A close reason fits 123 bytes of UTF-8. */
    static String reason(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "…" : text;
    }
}
