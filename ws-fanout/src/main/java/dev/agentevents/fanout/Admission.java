package dev.agentevents.fanout;

import dev.agentevents.fanout.FanoutMetrics.Refusal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * The one way a client connection is let in, for every transport: origin, then token, then whether this node serves
 * the user's partition, then the per-user connection limit. Each refusal is counted
 * ({@code fanout_refused_total{reason}}); the transports turn the outcome into their own answer (an HTTP status, a
 * close code, a {@code moved} frame).
 */
final class Admission {

    /** What became of a connection attempt. */
    sealed interface Outcome permits Admitted, Refused, Elsewhere {
    }

    /** Let in: the user and the partition of their events, which this node serves. */
    record Admitted(String userId, int partition) implements Outcome {
    }

    /** Not let in, and why. */
    record Refused(Refusal refusal, String message) implements Outcome {
    }

    /** Another node serves the user's partition ({@code url} null: nobody does right now; ask {@code /route}). */
    record Elsewhere(String url) implements Outcome {
    }


    private final Vertx vertx;
    private final FanoutConfig config;
    private final TokenVerifier tokens;
    private final SubscriberRegistry registry;
    private final PartitionFeed feed;
    private final OwnerDirectory owners;
    private final String advertisedUrl;
    private final FanoutMetrics metrics;

    Admission(Vertx vertx, FanoutConfig config, TokenVerifier tokens, SubscriberRegistry registry, PartitionFeed feed,
              OwnerDirectory owners, String advertisedUrl, FanoutMetrics metrics) {
        this.vertx = vertx;
        this.config = config;
        this.tokens = tokens;
        this.registry = registry;
        this.feed = feed;
        this.owners = owners;
        this.advertisedUrl = advertisedUrl;
        this.metrics = metrics;
    }

    /** The origin check, before anything else (browsers send {@code Origin}; other clients need not). */
    Refused checkOrigin(HttpServerRequest request) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (config.originAllowed(origin)) {
            return null;
        }
        return refuse(Refusal.ORIGIN, "origin " + origin + " is not allowed");
    }

    /** The token's user, whether this node serves them, and whether they may open one more connection. */
    Future<Outcome> admit(String token) {
        return tokens.userOf(token).transform(user -> {
            if (user.failed()) {
                return Future.succeededFuture(refuse(Refusal.TOKEN, "invalid or missing token: "
                        + user.cause().getMessage()));
            }
            String userId = user.result();
            int partition = feed.partitionOf(userId);
            if (!registry.owns(partition)) {
                metrics.moved(FanoutMetrics.MoveCause.WRONG_NODE);
                return ownerOf(partition).map(Elsewhere::new);
            }
            if (registry.connectionsOf(userId) >= config.maxConnectionsPerUser()) {
                return Future.succeededFuture(refuse(Refusal.CONNECTIONS_PER_USER, "more than "
                        + config.maxConnectionsPerUser() + " connections for this user"));
            }
            return Future.succeededFuture(new Admitted(userId, partition));
        });
    }

    /** The URL of the node serving {@code partition} now, or null while nobody does. */
    Future<String> ownerOf(int partition) {
        if (registry.owns(partition)) {
            return Future.succeededFuture(advertisedUrl);
        }
        return vertx.executeBlocking(() -> owners.ownerUrl(partition), false);
    }

    /** The user of a valid token, for requests that only need to know who asks ({@code /route}). */
    Future<String> userOf(String token) {
        return tokens.userOf(token).recover(e -> {
            metrics.refused(Refusal.TOKEN);
            return Future.failedFuture(e);
        });
    }

    int partitionOf(String userId) {
        return feed.partitionOf(userId);
    }

    private Refused refuse(Refusal refusal, String message) {
        metrics.refused(refusal);
        return new Refused(refusal, message);
    }

    /** The client's token: {@code Authorization: Bearer}, else {@code ?access_token=}. */
    static String token(HttpServerRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).trim();
        }
        return request.getParam("access_token");
    }
}
