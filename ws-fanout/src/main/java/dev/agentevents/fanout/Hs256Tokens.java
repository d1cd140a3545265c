package dev.agentevents.fanout;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tokens signed with a shared HS256 secret ({@code FANOUT_JWT_HS256_SECRET}): what the demo's {@code /dev/token}
 * hands out, and what the launchers, benchmarks and tests sign their users' tokens with. Production tokens come from
 * the application's identity provider.
 */
public final class Hs256Tokens {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private Hs256Tokens() {
    }

    /** A token for {@code userId} that expires after {@code ttl}. */
    public static String issue(String secret, String userId, Duration ttl) {
        long now = System.currentTimeMillis() / 1000;
        return sign(secret, new JsonObject().put("sub", userId).put("jti", UUID.randomUUID().toString())
                .put("iat", now).put("exp", now + ttl.toSeconds()));
    }

    /** {@code claims} as a compact JWS signed with HS256 and {@code secret}. */
    public static String sign(String secret, JsonObject claims) {
        String input = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
                + "." + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot sign HS256", e);
        }
    }
}
