package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /ws}: protocol v1 over a WebSocket. The upgrade happens before the token is checked, so that a refusal
 * can be a close code (4401, 4429) or a {@code moved} frame and 4009; client messages are held to
 * {@link ClientMessageLimit} (1009, 1008, 1003).
 */
final class WebSocketTransport {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTransport.class);

    static final short UNAUTHORIZED = 4401;
    static final short FORBIDDEN = 4403;
    static final short TOO_MANY_CONNECTIONS = 4429;
    static final short POLICY_VIOLATION = 1008;
    static final short UNSUPPORTED_DATA = 1003;
    static final short MESSAGE_TOO_BIG = 1009;

    private final Vertx vertx;
    private final FanoutConfig config;
    private final Admission admission;
    private final ConnectionStart start;
    private final Connections connections;
    private final FanoutMetrics metrics;

    WebSocketTransport(Vertx vertx, FanoutConfig config, Admission admission, ConnectionStart start,
                       Connections connections, FanoutMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.admission = admission;
        this.start = start;
        this.connections = connections;
        this.metrics = metrics;
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        Admission.Refused origin = admission.checkOrigin(request);
        if (origin != null) {
            ctx.response().setStatusCode(403).end(origin.message());
            return;
        }
        String token = Admission.token(request);
        ResumePosition resume = ResumePosition.parse(request.getParam("resume"));
        String runId = request.getParam("runId");
        String threadId = request.getParam("threadId");
        request.toWebSocket().onSuccess(socket -> {
            socket.pause();
            admission.admit(token).onComplete(outcome -> {
                if (socket.isClosed()) {
                    // the client went away while its token was checked: nothing to set up (its handlers would throw)
                    metrics.abandoned(FanoutMetrics.Transport.WEBSOCKET);
                    return;
                }
                Admission.Outcome result = outcome.result();
                if (result instanceof Admission.Admitted admitted) {
                    accept(socket, admitted, resume, runId, threadId);
                } else if (result instanceof Admission.Elsewhere elsewhere) {
                    socket.writeTextMessage(Frame.moved(elsewhere.url()).text());
                    socket.close(Subscriber.MOVED, "moved");
                } else if (result instanceof Admission.Refused refused) {
                    boolean crowded = refused.refusal() == FanoutMetrics.Refusal.CONNECTIONS_PER_USER;
                    socket.close(crowded ? TOO_MANY_CONNECTIONS : UNAUTHORIZED,
                            crowded ? refused.message() : "invalid or missing token");
                }
            });
        }).onFailure(e -> LOG.debug("websocket upgrade failed: {}", e.toString()));
    }

    private void accept(ServerWebSocket socket, Admission.Admitted admitted, ResumePosition resume, String runId,
                        String threadId) {
        Subscriber subscriber = new Subscriber(admitted.userId(), admitted.partition(), runId, threadId,
                vertx.getOrCreateContext(), new Subscriber.Transport(socket,
                        frame -> socket.writeTextMessage(frame.text()), () -> !socket.isClosed(), socket::close),
                metrics, config.queueFrames(), config.queueBytes());
        Connections.Connection connection = connections.track(subscriber, FanoutMetrics.Transport.WEBSOCKET,
                () -> socket.writePing(Buffer.buffer()), () -> socket.close((short) 1001, "server closed the connection"));
        socket.closeHandler(v -> connections.untrack(connection));
        socket.pongHandler(b -> connection.ponged());
        ClientMessageLimit limit = new ClientMessageLimit(config.maxClientFrameBytes(),
                config.maxClientMessagesPerSecond());
        socket.textMessageHandler(text -> {
            switch (limit.text(text)) {
                case TOO_LARGE -> {
                    metrics.refused(FanoutMetrics.Refusal.CLIENT_MESSAGE_SIZE);
                    socket.close(MESSAGE_TOO_BIG, "messages are limited to " + config.maxClientFrameBytes()
                            + " bytes");
                }
                case TOO_MANY -> {
                    metrics.refused(FanoutMetrics.Refusal.CLIENT_MESSAGE_RATE);
                    socket.close(POLICY_VIOLATION, "more than " + config.maxClientMessagesPerSecond()
                            + " messages per second");
                }
                default -> { }
            }
        });
        socket.binaryMessageHandler(b -> {
            if (limit.binary() == ClientMessageLimit.Verdict.BINARY) {
                metrics.refused(FanoutMetrics.Refusal.BINARY_FRAME);
                socket.close(UNSUPPORTED_DATA, "binary frames are not accepted");
            }
        });
        socket.exceptionHandler(e -> LOG.debug("socket of {}: {}", admitted.userId(), e.toString()));
        start.begin(subscriber, resume);
        socket.resume();
    }
}
