package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /events}: protocol v1 as Server-Sent Events, for clients that cannot use WebSockets. Each event and gap
 * frame carries {@code id: <partition>:<offset>}, and {@code Last-Event-ID} is the resume position; a refusal is an
 * HTTP status (401, 403, 429, 503), a move a {@code moved} frame that ends the stream, a close an
 * {@code event: close}. An event stream cannot be refreshed: it ends at the token's {@code exp} with
 * {@code event: close} code 4401, and the client reconnects with a fresh token and {@code Last-Event-ID}.
 */
final class SseTransport {

    private final Vertx vertx;
    private final FanoutConfig config;
    private final Admission admission;
    private final ConnectionStart start;
    private final Connections connections;
    private final FanoutMetrics metrics;

    SseTransport(Vertx vertx, FanoutConfig config, Admission admission, ConnectionStart start,
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
        Admission.Entry entry = admission.enter(request);
        if (entry instanceof Admission.Refused refused) {
            FanoutVerticle.json(ctx, refused.httpStatus(), new JsonObject().put("error", refused.message()));
            return;
        }
        ConnectionLimits.Reservation reservation = ((Admission.Entered) entry).reservation();
        String lastEventId = request.getHeader("Last-Event-ID");
        ResumePosition resume = ResumePosition.parse(lastEventId != null ? lastEventId : request.getParam("resume"));
        admission.admit(Admission.Credentials.of(request), reservation).onComplete(outcome -> {
            HttpServerResponse response = ctx.response();
            Admission.Outcome result = outcome.result();
            if (response.closed()) {
                metrics.abandoned(FanoutMetrics.Transport.SSE);
                if (result instanceof Admission.Admitted admitted) {
                    admitted.reservation().release();
                }
                return;
            }
            if (result instanceof Admission.Admitted admitted) {
                accept(request, response, admitted, resume);
            } else if (result instanceof Admission.Elsewhere elsewhere) {
                open(response).end(event(Frame.moved(elsewhere.url())));
            } else if (result instanceof Admission.Refused refused) {
                FanoutVerticle.json(ctx, refused.httpStatus(), new JsonObject().put("error", refused.message()));
            }
        });
    }

    private void accept(HttpServerRequest request, HttpServerResponse response, Admission.Admitted admitted,
                        ResumePosition resume) {
        open(response);
        Subscriber subscriber = new Subscriber(admitted.userId(), admitted.partition(), request.getParam("runId"),
                request.getParam("threadId"), vertx.getOrCreateContext(), new Subscriber.Transport(response,
                        frame -> response.write(event(frame)), () -> !response.ended() && !response.closed(),
                        (code, reason) -> {
                            if (!response.ended()) {
                                response.end("event: close\ndata: " + new JsonObject().put("code", code)
                                        .put("reason", reason).encode() + "\n\n");
                            }
                        }, true), metrics, config.clients().queueFrames(), config.clients().queueBytes());
        // an event stream cannot be refreshed in place: it ends at exp, and the client reconnects with a fresh token
        TokenLifetime lifetime = new TokenLifetime(vertx, admitted.identity().expiresAtMs(),
                config.tokens().expiryWarning(),
                () -> subscriber.control(Frame.expiring(admitted.identity().expiresAtMs() / 1000)),
                () -> {
                    metrics.refused(FanoutMetrics.Refusal.TOKEN_EXPIRED);
                    subscriber.closeNow(WebSocketTransport.UNAUTHORIZED,
                            "token expired; reconnect with a fresh token and Last-Event-ID");
                });
        Connections.Connection connection = connections.track(subscriber, FanoutMetrics.Transport.SSE, () -> {
            if (!response.ended()) {
                response.write(": ping\n\n");
            }
        }, () -> request.connection().close(), () -> {
            lifetime.cancel();
            admitted.reservation().release();
        });
        connection.neverSilent();
        response.closeHandler(v -> connections.untrack(connection));
        response.endHandler(v -> connections.untrack(connection));
        start.begin(subscriber, resume);
    }

    /** One SSE event: the frame's position as its id (event and gap frames), its shared UTF-8 JSON as data. */
    static Buffer event(Frame frame) {
        String head = (frame.hasPosition() ? "id: " + frame.partition() + ":" + frame.offset() + "\n" : "") + "data: ";
        return Buffer.buffer(head.length() + frame.utf8().length + 2).appendString(head).appendBytes(frame.utf8())
                .appendString("\n\n");
    }

    /** Starts an event stream on {@code response}. */
    static HttpServerResponse open(HttpServerResponse response) {
        return response.setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }
}
