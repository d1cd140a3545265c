package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

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

    /** A token whose {@code sub} is {@code sub} exactly as given (lone surrogates, control characters). */
    String withSubject(String sub) {
        return Hs256Tokens.sign(FanoutFixture.SECRET, new JsonObject().put("sub", sub)
                .put("exp", System.currentTimeMillis() / 1000 + 600));
    }

    static String unsigned(String user) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" + (System.currentTimeMillis() / 1000
                + 600) + "}").getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }
}
