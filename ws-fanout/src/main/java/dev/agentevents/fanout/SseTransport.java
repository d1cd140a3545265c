package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /events}: protocol v1 as Server-Sent Events, for clients that cannot use WebSockets. Each event and gap
 * frame carries {@code id: <partition>:<offset>}, and {@code Last-Event-ID} is the resume position; a refusal is an
 * HTTP status (401, 429), a move a {@code moved} frame that ends the stream, a close an {@code event: close}.
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
        Admission.Refused origin = admission.checkOrigin(request);
        if (origin != null) {
            ctx.response().setStatusCode(403).end(origin.message());
            return;
        }
        String lastEventId = request.getHeader("Last-Event-ID");
        ResumePosition resume = ResumePosition.parse(lastEventId != null ? lastEventId : request.getParam("resume"));
        admission.admit(Admission.token(request)).onComplete(outcome -> {
            HttpServerResponse response = ctx.response();
            if (response.closed()) {
                metrics.abandoned(FanoutMetrics.Transport.SSE);
                return;
            }
            Admission.Outcome result = outcome.result();
            if (result instanceof Admission.Admitted admitted) {
                accept(request, response, admitted, resume);
            } else if (result instanceof Admission.Elsewhere elsewhere) {
                open(response).end("data: " + Frame.moved(elsewhere.url()).text() + "\n\n");
            } else if (result instanceof Admission.Refused refused) {
                boolean crowded = refused.refusal() == FanoutMetrics.Refusal.CONNECTIONS_PER_USER;
                FanoutVerticle.json(ctx, crowded ? 429 : 401, new JsonObject().put("error",
                        crowded ? "too many connections for this user" : "invalid or missing token"));
            }
        });
    }

    private void accept(HttpServerRequest request, HttpServerResponse response, Admission.Admitted admitted,
                        ResumePosition resume) {
        open(response);
        Subscriber subscriber = new Subscriber(admitted.userId(), admitted.partition(), request.getParam("runId"),
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
        Connections.Connection connection = connections.track(subscriber, FanoutMetrics.Transport.SSE, () -> {
            if (!response.ended()) {
                response.write(": ping\n\n");
            }
        }, () -> request.connection().close());
        connection.neverSilent();
        response.closeHandler(v -> connections.untrack(connection));
        start.begin(subscriber, resume);
    }

    /** Starts an event stream on {@code response}. */
    static HttpServerResponse open(HttpServerResponse response) {
        return response.setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }
}
