package dev.agentevents.fanout;

import dev.agentevents.fanout.FanoutMetrics.Refusal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a client connection is let in, for every transport. Before the upgrade ({@link #enter}): the origin,
 * then a slot of the node's and of the client address's connections. After it ({@link #admit}): the credentials (a
 * ticket from {@code /route}, or a JWT in {@code Authorization: Bearer} or {@code ?access_token=}), whether this node
 * serves the user's partition, and a slot of the user's connections. Each refusal is counted
 * ({@code fanout_refused_total{reason}}); the transports turn outcomes into their own answers (an HTTP status, a close
 * code, a {@code moved} frame). Slots taken are given back by the connection's {@link ConnectionLimits.Reservation}.
 */
final class Admission {

    private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

    /** What became of a connection attempt. */
    sealed interface Outcome permits Admitted, Refused, Elsewhere {
    }

    /** Let in: who, until when, the partition of their events (served here), and the slots they hold. */
    record Admitted(TokenVerifier.Identity identity, int partition, ConnectionLimits.Reservation reservation)
            implements Outcome {

        String userId() {
            return identity.userId();
        }
    }

    /** Not let in, why, and the HTTP status that says so before an upgrade. */
    record Refused(Refusal refusal, String message, int httpStatus) implements Outcome, Entry {
    }

    /** Another node serves the user's partition ({@code url} null: nobody does right now; ask {@code /route}). */
    record Elsewhere(String url) implements Outcome {
    }

    /** What a client presents: a ticket from {@code /route}, else a JWT. */
    record Credentials(String ticket, String token) {

        static Credentials of(HttpServerRequest request) {
            return new Credentials(request.getParam("ticket"), bearer(request));
        }
    }

    /** What the checks before an upgrade made of a request. */
    sealed interface Entry permits Entered, Refused {
    }

    /** Past the checks before an upgrade: the node and address slots taken. */
    record Entered(ConnectionLimits.Reservation reservation) implements Entry {
    }

    private final Vertx vertx;
    private final FanoutConfig config;
    private final TokenVerifier tokens;
    private final Tickets tickets;
    private final SubscriberRegistry registry;
    private final PartitionFeed feed;
    private final OwnerDirectory owners;
    private final ConnectionLimits limits;
    private final String advertisedUrl;
    private final FanoutMetrics metrics;

    Admission(Vertx vertx, FanoutConfig config, TokenVerifier tokens, Tickets tickets, SubscriberRegistry registry,
              PartitionFeed feed, OwnerDirectory owners, ConnectionLimits limits, String advertisedUrl,
              FanoutMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.tokens = tokens;
        this.tickets = tickets;
        this.registry = registry;
        this.feed = feed;
        this.owners = owners;
        this.limits = limits;
        this.advertisedUrl = advertisedUrl;
        this.metrics = metrics;
    }

    /** The checks before an upgrade: {@link Entered}, or {@link Refused} with its HTTP status. */
    Entry enter(HttpServerRequest request) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (!config.clients().originAllowed(origin)) {
            return refuse(Refusal.ORIGIN, "origin " + origin + " is not allowed", 403);
        }
        String address = limits.clientAddress(request);
        ConnectionLimits.Reserved reserved = limits.reserve(address);
        if (reserved.reservation() == null) {
            return reserved.full() == ConnectionLimits.Full.NODE
                    ? refuse(Refusal.NODE_CONNECTIONS, "this node holds " + config.clients().maxConnections()
                            + " connections; try another or later", 503)
                    : refuse(Refusal.ADDRESS_CONNECTIONS, "more than " + config.clients().maxPerAddress()
                            + " connections from " + address, 429);
        }
        return new Entered(reserved.reservation());
    }

    /**
     * Who the credentials speak for, whether this node serves them, and whether they may open one more connection;
     * all within {@code FANOUT_HANDSHAKE_TIMEOUT_MS} of the request (a key set that does not answer, say).
     */
    Future<Outcome> admit(Credentials credentials, ConnectionLimits.Reservation reservation) {
        long timeout = config.clients().handshakeTimeout().toMillis();
        return identify(credentials).timeout(timeout, TimeUnit.MILLISECONDS).transform(identity -> {
            if (identity.failed() && identity.cause() instanceof java.util.concurrent.TimeoutException) {
                reservation.release();
                return Future.succeededFuture(refuse(Refusal.HANDSHAKE_TIMEOUT, "the token could not be checked"
                        + " within " + timeout + " ms; try again", 503));
            }
            if (identity.failed()) {
                reservation.release();
                return Future.succeededFuture(refuse(Refusal.TOKEN, identity.cause().getMessage(), 401));
            }
            String userId = identity.result().userId();
            int partition = feed.partitionOf(userId);
            if (!registry.owns(partition)) {
                reservation.release();
                metrics.moved(FanoutMetrics.MoveCause.WRONG_NODE);
                return ownerOf(partition).map(Elsewhere::new);
            }
            if (credentials.ticket() != null) {
                try {
                    tickets.redeem(credentials.ticket()); // used up only where it opens the stream
                } catch (TokenException e) {
                    reservation.release();
                    return Future.succeededFuture(refuse(Refusal.TOKEN, e.getMessage(), 401));
                }
            }
            if (!reservation.claimUser(userId)) {
                reservation.release();
                return Future.succeededFuture(refuse(Refusal.CONNECTIONS_PER_USER, "more than "
                        + config.clients().maxPerUser() + " connections for this user", 429));
            }
            return Future.succeededFuture(new Admitted(identity.result(), partition, reservation));
        });
    }

    private Future<TokenVerifier.Identity> identify(Credentials credentials) {
        if (credentials.ticket() != null) {
            try {
                return Future.succeededFuture(tickets.peek(credentials.ticket()));
            } catch (TokenException e) {
                return Future.failedFuture(e);
            }
        }
        return tokens.verify(credentials.token());
    }

    /** {@code GET /route}'s answer for a token: its identity, or a failed future (counted as a token refusal). */
    Future<TokenVerifier.Identity> routeFor(String token) {
        return tokens.verify(token).recover(e -> {
            metrics.refused(Refusal.TOKEN);
            return Future.failedFuture(e);
        });
    }

    /** A ticket that opens {@code identity}'s stream on whichever node serves it. */
    String ticketFor(TokenVerifier.Identity identity) {
        return tickets.issue(identity);
    }

    /**
     * The URL of the node serving {@code partition} now, or null while nobody does — or while the group names a URL
     * that {@code FANOUT_ALLOWED_NODE_URLS} does not allow (any client could join the group and advertise one).
     */
    Future<String> ownerOf(int partition) {
        if (registry.owns(partition)) {
            return Future.succeededFuture(advertisedUrl);
        }
        return vertx.executeBlocking(() -> {
            String url = owners.ownerUrl(partition);
            if (url != null && !config.nodeUrlAllowed(url, advertisedUrl)) {
                metrics.refused(Refusal.NODE_URL);
                LOG.warn("the fanout group names {} as the owner of partition {}, which FANOUT_ALLOWED_NODE_URLS does"
                        + " not allow: not handing it out", url, partition);
                return null;
            }
            return url;
        }, false);
    }

    int partitionOf(String userId) {
        return feed.partitionOf(userId);
    }

    private Refused refuse(Refusal refusal, String message, int httpStatus) {
        metrics.refused(refusal);
        return new Refused(refusal, message, httpStatus);
    }

    /** The JWT of {@code Authorization: Bearer}, else {@code ?access_token=} (third-party clients). */
    static String bearer(HttpServerRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).trim();
        }
        return request.getParam("access_token");
    }
}
