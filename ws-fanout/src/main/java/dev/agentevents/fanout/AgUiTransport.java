package dev.agentevents.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * One run as an AG-UI event stream ({@link AgUiTranslator}), for agent UIs that speak AG-UI: {@code POST /ag-ui} with
 * a {@code RunAgentInput} (its {@code threadId} and {@code runId}; the rest is accepted and ignored) — what
 * {@code @ag-ui/client}'s {@code HttpAgent} sends — and {@code GET /ag-ui/runs/{runId}} for {@code EventSource}.
 * Credentials as for {@code /events}. The stream reads the run from its first event (memory, else Kafka from
 * {@code FANOUT_AGUI_LOOKBACK_MS} ago, only the user's records), then live, and ends after RUN_FINISHED or RUN_ERROR.
 * Every SSE event has an id ({@code <partition>:<offset>}, or {@code <partition>:<offset>.<i>} for the events before
 * the last one made from the same record); with {@code Last-Event-ID} the stream goes on after it, the same events
 * with the same message ids. A run that has not started is waited for ({@code FANOUT_AGUI_START_TIMEOUT_MS}), then
 * ends with RUN_ERROR {@code RUN_NOT_FOUND} — the same for a run of another user. A node that does not serve the
 * user's partition passes the request on to the one that does ({@link AgUiProxy}).
 */
final class AgUiTransport {

    static final String FORWARDED = "X-Agent-Events-Forwarded";

    private final Vertx vertx;
    private final FanoutConfig config;
    private final Admission admission;
    private final ConnectionStart start;
    private final Connections connections;
    private final OffsetLookup offsets;
    private final AgUiProxy proxy;
    private final FanoutMetrics metrics;

    AgUiTransport(Vertx vertx, FanoutConfig config, Admission admission, ConnectionStart start,
                  Connections connections, OffsetLookup offsets, AgUiProxy proxy, FanoutMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.admission = admission;
        this.start = start;
        this.connections = connections;
        this.offsets = offsets;
        this.proxy = proxy;
        this.metrics = metrics;
    }

    /** {@code POST /ag-ui} (its body read by the route's body handler, at most 1 MiB). */
    void run(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        {
            JsonObject input;
            try {
                input = body == null ? null : body.toJsonObject();
                if (input == null) {
                    throw new IllegalArgumentException("no body");
                }
            } catch (RuntimeException e) {
                FanoutVerticle.json(ctx, 400, new JsonObject().put("error", "the body is not a RunAgentInput JSON"
                        + " object: " + e.getMessage()));
                return;
            }
            String runId = input.getValue("runId") instanceof String s ? s : null;
            String threadId = input.getValue("threadId") instanceof String s ? s : null;
            if (runId == null || runId.isBlank() || threadId == null || threadId.isBlank()) {
                FanoutVerticle.json(ctx, 400, new JsonObject().put("error", "RunAgentInput needs a threadId and a"
                        + " runId (strings)"));
                return;
            }
            stream(ctx, runId, threadId, body);
        }
    }

    /** {@code GET /ag-ui/runs/{runId}}. */
    void runById(RoutingContext ctx) {
        String runId = ctx.pathParam("runId");
        String threadId = ctx.request().getParam("threadId");
        stream(ctx, runId, threadId == null ? "" : threadId, null);
    }

    private void stream(RoutingContext ctx, String runId, String threadId, Buffer body) {
        HttpServerRequest request = ctx.request();
        Admission.Entry entry = admission.enter(request);
        if (entry instanceof Admission.Refused refused) {
            FanoutVerticle.json(ctx, refused.httpStatus(), new JsonObject().put("error", refused.message()));
            return;
        }
        ConnectionLimits.Reservation reservation = ((Admission.Entered) entry).reservation();
        admission.admit(Admission.Credentials.of(request), reservation).onComplete(outcome -> {
            Admission.Outcome result = outcome.result();
            if (ctx.response().closed()) {
                if (result instanceof Admission.Admitted admitted) {
                    admitted.reservation().release();
                }
                return;
            }
            if (result instanceof Admission.Admitted admitted) {
                open(ctx, admitted, runId, threadId);
            } else if (result instanceof Admission.Elsewhere elsewhere) {
                if (elsewhere.url() == null || request.getHeader(FORWARDED) != null) {
                    ctx.response().putHeader("Retry-After", "1");
                    FanoutVerticle.json(ctx, 503, new JsonObject().put("error", "no node serves this user's"
                            + " partition right now; retry"));
                } else {
                    proxy.forward(ctx, elsewhere.url(), body);
                }
            } else if (result instanceof Admission.Refused refused) {
                FanoutVerticle.json(ctx, refused.httpStatus(), new JsonObject().put("error", refused.message()));
            }
        });
    }

    private void open(RoutingContext ctx, Admission.Admitted admitted, String runId, String threadId) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = SseTransport.open(ctx.response());
        String lastEventId = request.getHeader("Last-Event-ID");
        AgUiTranslator translator = new AgUiTranslator(runId, threadId);
        int partition = admitted.partition();
        Subscriber[] holder = new Subscriber[1];
        Subscriber subscriber = new Subscriber(admitted.userId(), partition, runId, null,
                vertx.getOrCreateContext(), new Subscriber.Transport(response,
                        frame -> send(response, translator, frame, lastEventId, holder[0]),
                        () -> !response.ended() && !response.closed(),
                        (code, reason) -> {
                            if (!response.ended()) {
                                response.end();
                            }
                        }, false), metrics, config.clients().queueFrames(), config.clients().queueBytes());
        holder[0] = subscriber;
        long waiting = vertx.setTimer(config.agUi().startTimeout().toMillis(), id -> {
            if (!translator.started() && !response.ended()) {
                write(response, translator.end("RUN_NOT_FOUND", "run " + runId + " did not start within "
                        + config.agUi().startTimeout().toMillis() + " ms", partition + ":-1"), null);
                subscriber.closeNow((short) 1000, "run not found");
            }
        });
        TokenLifetime lifetime = new TokenLifetime(vertx, admitted.identity().expiresAtMs(),
                config.tokens().expiryWarning(), () -> { },
                () -> subscriber.closeNow(WebSocketTransport.UNAUTHORIZED, "token expired"));
        Connections.Connection connection = connections.track(subscriber, FanoutMetrics.Transport.AG_UI, () -> {
            if (!response.ended()) {
                response.write(": ping\n\n");
            }
        }, () -> request.connection().close(), () -> {
            vertx.cancelTimer(waiting);
            lifetime.cancel();
            admitted.reservation().release();
        });
        connection.neverSilent();
        response.closeHandler(v -> connections.untrack(connection));
        response.endHandler(v -> connections.untrack(connection));
        long since = System.currentTimeMillis() - config.agUi().lookback().toMillis();
        vertx.executeBlocking(() -> offsets.offsetAt(partition, since), false).onComplete(offset -> {
            if (response.ended()) {
                return;
            }
            long from = offset.succeeded() ? offset.result() : 0;
            start.begin(subscriber, new ResumePosition(partition, from - 1, null));
        });
    }

    /** A frame of the run: its AG-UI events, those after the client's Last-Event-ID written out. */
    private void send(HttpServerResponse response, AgUiTranslator translator, Frame frame, String lastEventId,
                      Subscriber subscriber) {
        if (!frame.hasPosition()) {
            if (frame.text().contains("\"type\":\"moved\"")) {
                response.end(); // the partition moved: the client reconnects, with Last-Event-ID, at any node
            }
            return;
        }
        JsonNode json;
        try {
            json = AgUiTranslator.JSON.readTree(frame.utf8());
        } catch (Exception e) {
            return;
        }
        if (json.path("type").asText().equals("gap") && json.path("runId").isNull()) {
            return; // an undecodable record of the user: nothing of this run is known to be missing
        }
        write(response, translator.accept(json), lastEventId);
        if (translator.ended()) {
            subscriber.closeAfter(null, (short) 1000, "run ended");
        }
    }

    private static void write(HttpServerResponse response, List<AgUiTranslator.Output> outputs, String lastEventId) {
        StringBuilder text = new StringBuilder();
        for (AgUiTranslator.Output output : outputs) {
            if (AgUiTranslator.after(output.id(), lastEventId)) {
                ObjectNode event = output.event();
                text.append("id: ").append(output.id()).append('\n').append("data: ").append(event.toString())
                        .append("\n\n");
            }
        }
        if (!text.isEmpty() && !response.ended()) {
            response.write(text.toString());
        }
    }

    /** The routes of AG-UI, with the request body read for POST. */
    void mount(io.vertx.ext.web.Router router) {
        router.post("/ag-ui").handler(io.vertx.ext.web.handler.BodyHandler.create().setBodyLimit(1024 * 1024))
                .handler(this::run);
        router.get("/ag-ui/runs/:runId").handler(this::runById);
    }
}
