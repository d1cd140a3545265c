package dev.agentevents.fanout;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys tokens are verified with: an HS256 secret ({@code FANOUT_JWT_HS256_SECRET}), an RS256 public key
 * ({@code FANOUT_JWT_RS256_PUBLIC_KEY}), and the signing keys of a JWKS ({@code FANOUT_JWT_JWKS_URL}: RSA keys for
 * RS256/RS384/RS512, EC P-256 keys for ES256; keys whose {@code use} is not {@code sig}, or whose {@code alg} does not
 * fit their type, are not usable). Each key verifies only its own algorithm. Every configured source must give a
 * usable key, or the node does not start: a key set that is empty, encryption-only or unreachable never turns into
 * "accept anything". The JWKS is read again periodically and when a token names a {@code kid} it does not hold
 * (at most once per {@code FANOUT_JWKS_MIN_REFRESH_MS}); a refresh that fails or yields nothing keeps the keys held.
 */
final class VerificationKeys {

    private static final Logger LOG = LoggerFactory.getLogger(VerificationKeys.class);
    static final Set<String> ALGORITHMS = Set.of("HS256", "RS256", "RS384", "RS512", "ES256");

    /** One key: the algorithm it verifies, its {@code kid} (null for the configured ones), the key. */
    record VerificationKey(String alg, String kid, Key key) {
    }

    private final List<VerificationKey> fixed;
    private final String jwksUrl;
    private final Duration minRefresh;
    private final HttpClient http;
    private volatile List<VerificationKey> jwks = List.of();
    private volatile long refreshedAtMs;

    private VerificationKeys(List<VerificationKey> fixed, String jwksUrl, Duration minRefresh, HttpClient http) {
        this.fixed = fixed;
        this.jwksUrl = jwksUrl;
        this.minRefresh = minRefresh;
        this.http = http;
    }

    /** The keys of {@code config}; fails, naming the setting, unless every configured source gives a usable key. */
    static VerificationKeys load(FanoutConfig config) {
        List<VerificationKey> fixed = new ArrayList<>();
        if (!FanoutConfig.blank(config.tokens().hs256Secret())) {
            fixed.add(new VerificationKey("HS256", null, new SecretKeySpec(
                    config.tokens().hs256Secret().getBytes(StandardCharsets.UTF_8), "HmacSHA256")));
        }
        if (!FanoutConfig.blank(config.tokens().rs256PublicKeyPem())) {
            fixed.add(new VerificationKey("RS256", null, rsaFromPem(config.tokens().rs256PublicKeyPem())));
        }
        String url = FanoutConfig.blank(config.tokens().jwksUrl()) ? null : config.tokens().jwksUrl();
        VerificationKeys keys = new VerificationKeys(List.copyOf(fixed), url, config.tokens().jwksMinRefresh(),
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
        if (url != null) {
            requireSecureUrl(url);
            List<VerificationKey> fetched;
            try {
                fetched = keys.fetch();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("FANOUT_JWT_JWKS_URL: " + e.getMessage(), e);
            }
            if (fetched.isEmpty()) {
                throw new IllegalStateException("FANOUT_JWT_JWKS_URL " + url + " holds no usable signing key (RSA or"
                        + " EC P-256 with use 'sig' or no use): the node would accept no token, or any");
            }
            keys.jwks = fetched;
            keys.refreshedAtMs = System.currentTimeMillis();
        }
        if (keys.fixed.isEmpty() && keys.jwks.isEmpty()) {
            throw new IllegalStateException("set FANOUT_JWT_HS256_SECRET, FANOUT_JWT_RS256_PUBLIC_KEY or "
                    + "FANOUT_JWT_JWKS_URL: the node cannot verify tokens without a key");
        }
        LOG.info("token keys: {}", keys.describe());
        return keys;
    }

    /** A JWKS URL must be https, except on loopback (tests, a local identity provider). */
    static void requireSecureUrl(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("FANOUT_JWT_JWKS_URL '" + url + "' is not a URL", e);
        }
        if ("https".equalsIgnoreCase(uri.getScheme())) {
            return;
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || !isLoopback(uri.getHost())) {
            throw new IllegalArgumentException("FANOUT_JWT_JWKS_URL '" + url + "' must be https (plain http only on"
                    + " loopback): keys fetched in the clear can be swapped on the way");
        }
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The keys that may verify a token signed with {@code alg} naming {@code kid} (null: any of that algorithm). */
    List<VerificationKey> candidates(String alg, String kid) {
        List<VerificationKey> found = new ArrayList<>();
        for (VerificationKey key : fixed) {
            if (key.alg().equals(alg)) {
                found.add(key);
            }
        }
        for (VerificationKey key : jwks) {
            if (key.alg().equals(alg) && (kid == null || kid.equals(key.kid()))) {
                found.add(key);
            }
        }
        return found;
    }

    /** Whether a JWKS is configured and a token's unknown {@code kid} may be looked for by refreshing it now. */
    boolean mayRefresh() {
        return jwksUrl != null && System.currentTimeMillis() - refreshedAtMs >= minRefresh.toMillis();
    }

    /** Reads the JWKS again (blocking); keeps the keys held when it fails or gives none. True if keys changed. */
    synchronized boolean refresh() {
        if (jwksUrl == null) {
            return false;
        }
        refreshedAtMs = System.currentTimeMillis();
        try {
            List<VerificationKey> fetched = fetch();
            if (fetched.isEmpty()) {
                LOG.warn("FANOUT_JWT_JWKS_URL {} now holds no usable signing key; keeping the {} held", jwksUrl,
                        jwks.size());
                return false;
            }
            boolean changed = !kids(fetched).equals(kids(jwks));
            jwks = fetched;
            if (changed) {
                LOG.info("token keys refreshed: {}", describe());
            }
            return changed;
        } catch (RuntimeException e) {
            LOG.warn("cannot refresh FANOUT_JWT_JWKS_URL {}: {}; keeping the {} keys held", jwksUrl, e.getMessage(),
                    jwks.size());
            return false;
        }
    }

    private static List<String> kids(List<VerificationKey> keys) {
        return keys.stream().map(k -> k.alg() + ":" + k.kid()).sorted().toList();
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        fixed.forEach(k -> parts.add(k.alg()));
        jwks.forEach(k -> parts.add(k.alg() + "(kid " + k.kid() + ")"));
        return parts.toString();
    }

    private List<VerificationKey> fetch() {
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(URI.create(jwksUrl)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot fetch " + jwksUrl + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching " + jwksUrl, e);
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException(jwksUrl + " answered HTTP " + response.statusCode());
        }
        JsonArray keys;
        try {
            keys = new JsonObject(response.body()).getJsonArray("keys");
        } catch (RuntimeException e) {
            throw new IllegalStateException(jwksUrl + " did not answer a JWKS ({\"keys\": [...]})", e);
        }
        List<VerificationKey> usable = new ArrayList<>();
        if (keys == null) {
            return usable;
        }
        for (Object entry : keys) {
            if (entry instanceof JsonObject jwk) {
                VerificationKey key = fromJwk(jwk);
                if (key != null) {
                    usable.add(key);
                }
            }
        }
        return List.copyOf(usable);
    }

    /** The key a JWK describes, or null when it is not a usable signing key. */
    static VerificationKey fromJwk(JsonObject jwk) {
        String use = jwk.getString("use");
        if (use != null && !use.equals("sig")) {
            return null;
        }
        String kty = jwk.getString("kty", "");
        String alg = jwk.getString("alg");
        String kid = jwk.getString("kid");
        try {
            if (kty.equals("RSA")) {
                if (alg != null && !Set.of("RS256", "RS384", "RS512").contains(alg)) {
                    return null;
                }
                PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                        unsigned(jwk.getString("n")), unsigned(jwk.getString("e"))));
                return new VerificationKey(alg == null ? "RS256" : alg, kid, key);
            }
            if (kty.equals("EC")) {
                if (!"P-256".equals(jwk.getString("crv")) || (alg != null && !alg.equals("ES256"))) {
                    return null;
                }
                AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
                parameters.init(new ECGenParameterSpec("secp256r1"));
                ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
                PublicKey key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(
                        unsigned(jwk.getString("x")), unsigned(jwk.getString("y"))), spec));
                return new VerificationKey("ES256", kid, key);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            LOG.warn("skipping unreadable JWK {}: {}", kid, e.toString());
        }
        return null;
    }

    private static BigInteger unsigned(String base64url) {
        if (base64url == null) {
            throw new IllegalArgumentException("a key parameter is missing");
        }
        return new BigInteger(1, Base64.getUrlDecoder().decode(base64url));
    }

    static RSAPublicKey rsaFromPem(String pem) {
        String body = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(
                    Base64.getDecoder().decode(body)));
        } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException("FANOUT_JWT_RS256_PUBLIC_KEY is not an RSA public key in PEM"
                    + " (-----BEGIN PUBLIC KEY-----): " + e.getMessage(), e);
        }
    }
}
