package dev.agentevents.fanout;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.JWTOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Verifies client tokens (vertx-auth-jwt): HS256 with a shared secret, RS256 with a public key, or keys from a JWKS
 * URL; expiry is always checked, issuer and audience when configured, and unsigned ({@code alg: none}) or
 * wrongly signed tokens never pass. The token's {@code sub} is the user. Also issues demo tokens (HS256 only),
 * for the one-command demo.
 */
final class TokenVerifier {

    private final JWTAuth auth;
    private final boolean canIssue;

    private TokenVerifier(JWTAuth auth, boolean canIssue) {
        this.auth = auth;
        this.canIssue = canIssue;
    }

    /** Builds the verifier; fetching a JWKS is blocking, so call this off the event loop or at start-up. */
    static TokenVerifier create(Vertx vertx, FanoutConfig config) {
        JWTAuthOptions options = new JWTAuthOptions();
        if (!FanoutConfig.blank(config.hs256Secret())) {
            options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(config.hs256Secret()));
        }
        if (!FanoutConfig.blank(config.rs256PublicKeyPem())) {
            options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(config.rs256PublicKeyPem()));
        }
        if (!FanoutConfig.blank(config.jwksUrl())) {
            options.setJwks(fetchJwks(config.jwksUrl()));
        }
        JWTOptions jwt = new JWTOptions().setLeeway(5);
        if (!FanoutConfig.blank(config.issuer())) {
            jwt.setIssuer(config.issuer());
        }
        if (!FanoutConfig.blank(config.audience())) {
            jwt.setAudience(List.of(config.audience()));
        }
        options.setJWTOptions(jwt);
        return new TokenVerifier(JWTAuth.create(vertx, options), !FanoutConfig.blank(config.hs256Secret()));
    }

    private static List<JsonObject> fetchJwks(String url) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("FANOUT_JWT_JWKS_URL " + url + " answered HTTP " + response.statusCode());
            }
            JsonArray keys = new JsonObject(response.body()).getJsonArray("keys");
            List<JsonObject> list = new ArrayList<>();
            keys.forEach(k -> list.add((JsonObject) k));
            return list;
        } catch (IOException e) {
            throw new IllegalStateException("cannot fetch FANOUT_JWT_JWKS_URL " + url + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching " + url, e);
        }
    }

    /** The user id of a valid token; a failed future for anything else. */
    Future<String> userOf(String token) {
        if (token == null || token.isBlank()) {
            return Future.failedFuture("missing token");
        }
        return auth.authenticate(new TokenCredentials(token)).compose(user -> {
            String subject = user.principal().getString("sub");
            return subject == null || subject.isBlank() ? Future.failedFuture("token has no sub")
                    : Future.succeededFuture(subject);
        });
    }

    /** A token for {@code userId} valid for {@code ttl} (demo only; needs the HS256 secret). */
    String issue(String userId, Duration ttl) {
        if (!canIssue) {
            throw new IllegalStateException("demo tokens need FANOUT_JWT_HS256_SECRET");
        }
        return auth.generateToken(new JsonObject().put("sub", userId),
                new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds((int) ttl.toSeconds()));
    }
}
