package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Good and bad tokens for tests, signed with the fixture's HS256 secret (or deliberately not). */
final class Tokens {

    Tokens(Vertx vertx) {
    }

    String valid(String user) {
        return Hs256Tokens.issue(FanoutFixture.SECRET, user, Duration.ofMinutes(10));
    }

    /** A token of {@code user} that expires {@code ttl} from now. */
    String expiringIn(String user, Duration ttl) {
        return Hs256Tokens.sign(FanoutFixture.SECRET, new JsonObject().put("sub", user)
                .put("exp", (System.currentTimeMillis() + ttl.toMillis()) / 1000));
    }

    String expired(String user) {
        long past = System.currentTimeMillis() / 1000 - 3600;
        return Hs256Tokens.sign(FanoutFixture.SECRET, new JsonObject().put("sub", user).put("exp", past)
                .put("iat", past - 60));
    }

    String withoutExpiry(String user) {
        return Hs256Tokens.sign(FanoutFixture.SECRET, new JsonObject().put("sub", user));
    }

    String wrongKey(String user) {
        return Hs256Tokens.issue("a-different-secret-that-is-also-long-enough", user, Duration.ofMinutes(10));
    }

    String withoutSubject() {
        return Hs256Tokens.sign(FanoutFixture.SECRET, new JsonObject().put("name", "nobody")
                .put("exp", System.currentTimeMillis() / 1000 + 600));
    }

    /**
     * A token whose {@code sub} is {@code sub} exactly as given: every character outside printable ASCII is written as
     * a JSON {@code \\u} escape, so lone surrogates and control characters reach the node as they would from a
     * hostile issuer (UTF-8 could not carry a lone surrogate at all).
     */
    String withSubject(String sub) {
        StringBuilder escaped = new StringBuilder();
        for (char c : sub.toCharArray()) {
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                escaped.append(String.format("\\u%04x", (int) c));
            } else {
                escaped.append(c);
            }
        }
        String payload = "{\"sub\":\"" + escaped + "\",\"exp\":" + (System.currentTimeMillis() / 1000 + 600) + "}";
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payload.getBytes(StandardCharsets.US_ASCII));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(FanoutFixture.SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String unsigned(String user) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" + (System.currentTimeMillis() / 1000
                + 600) + "}").getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }
}
