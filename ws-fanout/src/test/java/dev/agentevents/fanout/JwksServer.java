package dev.agentevents.fanout;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;

/** An identity provider's key set over real HTTP on loopback, with RSA keys the test signs tokens with. */
final class JwksServer implements AutoCloseable {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final HttpServer http;
    private volatile String body = "{\"keys\":[]}";
    final AtomicInteger requests = new AtomicInteger();

    JwksServer() {
        try {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        http.createContext("/jwks.json", exchange -> {
            requests.incrementAndGet();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        http.start();
    }

    String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/jwks.json";
    }

    /** Serves exactly {@code keys} from now on. */
    void serve(JsonObject... keys) {
        JsonArray array = new JsonArray();
        for (JsonObject key : keys) {
            array.add(key);
        }
        body = new JsonObject().put("keys", array).encode();
    }

    static KeyPair rsaKey() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public half of {@code key} as a JWK with {@code kid} and {@code use}. */
    static JsonObject jwk(KeyPair key, String kid, String use) {
        RSAPublicKey rsa = (RSAPublicKey) key.getPublic();
        JsonObject jwk = new JsonObject().put("kty", "RSA").put("kid", kid).put("alg", "RS256")
                .put("n", unsigned(rsa.getModulus())).put("e", unsigned(rsa.getPublicExponent()));
        return use == null ? jwk : jwk.put("use", use);
    }

    private static String unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return B64.encodeToString(bytes);
    }

    /** A token with {@code claims}, signed RS256 with {@code key}, naming {@code kid}. */
    static String rs256(KeyPair key, String kid, JsonObject claims) {
        String input = B64.encodeToString(new JsonObject().put("alg", "RS256").put("typ", "JWT").put("kid", kid)
                .encode().getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
        try {
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key.getPrivate());
            signature.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + B64.encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token of {@code user} valid for ten minutes. */
    static String rs256(KeyPair key, String kid, String user) {
        return rs256(key, kid, new JsonObject().put("sub", user).put("exp", System.currentTimeMillis() / 1000 + 600));
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
