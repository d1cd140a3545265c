package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Good and bad tokens for tests. */
final class Tokens {

    private final JWTAuth good;
    private final JWTAuth otherKey;

    Tokens(Vertx vertx) {
        good = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
                .setBuffer(FanoutFixture.SECRET)));
        otherKey = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
                .setBuffer("a-different-secret-that-is-also-long-enough")));
    }

    String valid(String user) {
        return good.generateToken(new JsonObject().put("sub", user), new JWTOptions().setExpiresInSeconds(600));
    }

    String expired(String user) {
        long past = System.currentTimeMillis() / 1000 - 3600;
        return good.generateToken(new JsonObject().put("sub", user).put("exp", past).put("iat", past - 60),
                new JWTOptions());
    }

    String wrongKey(String user) {
        return otherKey.generateToken(new JsonObject().put("sub", user), new JWTOptions().setExpiresInSeconds(600));
    }

    String withoutSubject() {
        return good.generateToken(new JsonObject().put("name", "nobody"), new JWTOptions().setExpiresInSeconds(600));
    }

    static String unsigned(String user) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" + (System.currentTimeMillis() / 1000
                + 600) + "}").getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }
}
