package dev.agentevents.fanout;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * Verifies client tokens (compact JWS) with the JDK's own crypto and the {@link VerificationKeys}: the header's
 * {@code alg} must be one a held key verifies (never {@code none}), the signature must check with such a key,
 * {@code exp} must be present ({@code FANOUT_JWT_REQUIRE_EXP}, default true) and not past (5 s leeway), {@code nbf}
 * reached, {@code iss} and {@code aud} as configured, and {@code sub} a well-formed user id ({@link UserIds}). A token
 * naming a {@code kid} the keys do not hold makes the JWKS be read again once (rate-limited), off the event loop.
 * Also issues demo tokens (HS256 only), for the one-command demo.
 */
final class TokenVerifier {

    /** Who a valid token speaks for, and until when ({@link Long#MAX_VALUE}: no expiry, when that is allowed). */
    record Identity(String userId, long expiresAtMs) {
    }

    static final long LEEWAY_MS = 5_000;
    private static final Base64.Decoder B64 = Base64.getUrlDecoder();

    private final Vertx vertx;
    private final VerificationKeys keys;
    private final FanoutConfig config;

    TokenVerifier(Vertx vertx, VerificationKeys keys, FanoutConfig config) {
        this.vertx = vertx;
        this.keys = keys;
        this.config = config;
    }

    /** The identity of a valid token; a failed future with a {@link TokenException} for anything else. */
    Future<Identity> verify(String token) {
        if (token == null || token.isBlank()) {
            return Future.failedFuture(new TokenException("missing token"));
        }
        try {
            Jws jws = Jws.parse(token);
            if (keys.candidates(jws.alg(), jws.kid()).isEmpty() && jws.kid() != null && keys.mayRefresh()) {
                return vertx.executeBlocking(keys::refresh, false).compose(changed -> check(jws));
            }
            return check(jws);
        } catch (TokenException e) {
            return Future.failedFuture(e);
        }
    }

    /** The user of a valid token. */
    Future<String> userOf(String token) {
        return verify(token).map(Identity::userId);
    }

    private Future<Identity> check(Jws jws) {
        try {
            return Future.succeededFuture(claims(jws));
        } catch (TokenException e) {
            return Future.failedFuture(e);
        }
    }

    private Identity claims(Jws jws) throws TokenException {
        List<VerificationKeys.VerificationKey> candidates = keys.candidates(jws.alg(), jws.kid());
        if (candidates.isEmpty()) {
            throw new TokenException("no key verifies " + jws.alg() + " tokens" + (jws.kid() == null ? ""
                    : " with kid '" + cap(jws.kid()) + "'"));
        }
        boolean verified = false;
        for (VerificationKeys.VerificationKey key : candidates) {
            verified |= signatureMatches(jws, key);
        }
        if (!verified) {
            throw new TokenException("bad signature");
        }
        JsonObject claims = jws.payload();
        long now = System.currentTimeMillis();
        Long exp = seconds(claims, "exp");
        if (exp == null && config.tokens().requireExp()) {
            throw new TokenException("token has no exp (FANOUT_JWT_REQUIRE_EXP is true)");
        }
        if (exp != null && now > exp * 1000 + LEEWAY_MS) {
            throw new TokenException("token expired at " + exp);
        }
        Long nbf = seconds(claims, "nbf");
        if (nbf != null && now + LEEWAY_MS < nbf * 1000) {
            throw new TokenException("token not valid before " + nbf);
        }
        if (!FanoutConfig.blank(config.tokens().issuer()) && !config.tokens().issuer().equals(claims.getValue("iss"))) {
            throw new TokenException("token issuer is not " + config.tokens().issuer());
        }
        if (!FanoutConfig.blank(config.tokens().audience()) && !audiences(claims).contains(config.tokens().audience())) {
            throw new TokenException("token audience does not include " + config.tokens().audience());
        }
        Object sub = claims.getValue("sub");
        String problem = UserIds.problem(sub instanceof String s ? s : null, config.tokens().maxUserIdBytes());
        if (problem != null) {
            throw new TokenException(problem);
        }
        return new Identity((String) sub, exp == null ? Long.MAX_VALUE : exp * 1000);
    }

    private static List<Object> audiences(JsonObject claims) {
        Object aud = claims.getValue("aud");
        return aud instanceof JsonArray array ? array.getList() : aud == null ? List.of() : List.of(aud);
    }

    private static Long seconds(JsonObject claims, String name) throws TokenException {
        Object value = claims.getValue(name);
        if (value == null) {
            return null;
        }
        if (value instanceof Number number) {
            return number.longValue();
        }
        throw new TokenException("token claim " + name + " is not a number");
    }

    private static boolean signatureMatches(Jws jws, VerificationKeys.VerificationKey key) {
        try {
            if (jws.alg().equals("HS256")) {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init((SecretKey) key.key());
                return MessageDigest.isEqual(mac.doFinal(jws.signingInput()), jws.signature());
            }
            Signature signature = Signature.getInstance(switch (jws.alg()) {
                case "RS256" -> "SHA256withRSA";
                case "RS384" -> "SHA384withRSA";
                case "RS512" -> "SHA512withRSA";
                default -> "SHA256withECDSAinP1363Format";
            });
            signature.initVerify((PublicKey) key.key());
            signature.update(jws.signingInput());
            return signature.verify(jws.signature());
        } catch (GeneralSecurityException | ClassCastException e) {
            return false;
        }
    }

    private static String cap(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "…" : text;
    }

    /** A token's parts. */
    private record Jws(String alg, String kid, JsonObject payload, byte[] signingInput, byte[] signature) {

        static Jws parse(String token) throws TokenException {
            String[] parts = token.split("\\.", -1);
            if (parts.length != 3 || token.length() > 16_384) {
                throw new TokenException("not a signed JWT");
            }
            try {
                JsonObject header = new JsonObject(new String(B64.decode(parts[0]), StandardCharsets.UTF_8));
                String alg = header.getString("alg");
                if (alg == null || !VerificationKeys.ALGORITHMS.contains(alg)) {
                    throw new TokenException("token algorithm " + (alg == null ? "(none)" : "'" + cap(alg) + "'")
                            + " is not accepted");
                }
                Object kid = header.getValue("kid");
                JsonObject payload = new JsonObject(new String(B64.decode(parts[1]), StandardCharsets.UTF_8));
                byte[] signature = B64.decode(parts[2]);
                if (signature.length == 0) {
                    throw new TokenException("token is not signed");
                }
                return new Jws(alg, kid instanceof String s ? s : null, payload,
                        (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII), signature);
            } catch (IllegalArgumentException | ClassCastException | io.vertx.core.json.DecodeException e) {
                throw new TokenException("not a signed JWT");
            }
        }
    }

    /** A token for {@code userId} valid for {@code ttl} (demo only; needs the HS256 secret). */
    String issue(String userId, Duration ttl) {
        if (FanoutConfig.blank(config.tokens().hs256Secret())) {
            throw new IllegalStateException("demo tokens need FANOUT_JWT_HS256_SECRET");
        }
        return Hs256Tokens.issue(config.tokens().hs256Secret(), userId, ttl);
    }
}
