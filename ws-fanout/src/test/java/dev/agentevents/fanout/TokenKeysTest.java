package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which keys a node trusts: RS256 keys from a JWKS served over real HTTP (and their rotation), and the
 * misconfigurations that must stop a node from starting rather than let strangers in.
 */
class TokenKeysTest {

    private FanoutFixture fixture;
    private JwksServer jwks;

    @BeforeEach
    void start() throws Exception {
        fixture = new FanoutFixture();
        jwks = new JwksServer();
    }

    @AfterEach
    void stop() {
        fixture.close();
        jwks.close();
    }

    private Map<String, String> jwksOnly() {
        Map<String, String> env = new HashMap<>();
        env.put("FANOUT_JWT_HS256_SECRET", "");
        env.put("FANOUT_JWT_JWKS_URL", jwks.url());
        env.put("FANOUT_JWKS_MIN_REFRESH_MS", "0");
        return env;
    }

    private static int routeStatus(FanoutNode node, String token) throws Exception {
        return FanoutNodeTest.get(node, "/route", token).statusCode();
    }

    @Test
    void shouldRefuseToStartWhenTheKeySetHoldsNoKeyOrOnlyEncryptionKeys() {
        jwks.serve();
        assertThatThrownBy(() -> fixture.startNode("empty-keys", jwksOnly()))
                .hasMessageContaining("FANOUT_JWT_JWKS_URL " + jwks.url() + " holds no usable signing key");
        jwks.serve(JwksServer.jwk(JwksServer.rsaKey(), "enc-1", "enc"));
        assertThatThrownBy(() -> fixture.startNode("encryption-keys", jwksOnly()))
                .hasMessageContaining("holds no usable signing key");
    }

    @Test
    void shouldRefuseAKeySetFetchedInTheClearOffLoopback() {
        Map<String, String> env = fixture.env("plain-http");
        env.putAll(jwksOnly());
        env.put("FANOUT_JWT_JWKS_URL", "http://idp.example.com/.well-known/jwks.json");
        assertThatThrownBy(() -> FanoutConfig.fromEnv(env)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be https");
    }

    @Test
    void shouldVerifyRs256TokensFromTheKeySetAndFollowItsRotationWithoutARestart() throws Exception {
        KeyPair first = JwksServer.rsaKey();
        KeyPair second = JwksServer.rsaKey();
        jwks.serve(JwksServer.jwk(first, "key-1", "sig"));
        FanoutNode node = fixture.startSoleNode(jwksOnly());

        assertThat(routeStatus(node, JwksServer.rs256(first, "key-1", "ivy"))).isEqualTo(200);
        assertThat(routeStatus(node, JwksServer.rs256(second, "key-1", "ivy"))).as("signed by another key")
                .isEqualTo(401);

        jwks.serve(JwksServer.jwk(second, "key-2", "sig")); // the identity provider rotates
        assertThat(routeStatus(node, JwksServer.rs256(second, "key-2", "ivy"))).as("new kid: keys read again")
                .isEqualTo(200);
        assertThat(routeStatus(node, JwksServer.rs256(first, "key-1", "ivy"))).as("the retired key")
                .isEqualTo(401);
    }

    @Test
    void shouldRefuseUnsignedTokensAndTokensSignedWithTheWrongAlgorithm() throws Exception {
        KeyPair key = JwksServer.rsaKey();
        jwks.serve(JwksServer.jwk(key, "key-1", "sig"));
        FanoutNode node = fixture.startSoleNode(jwksOnly());
        String claims = new JsonObject().put("sub", "alice").put("exp", System.currentTimeMillis() / 1000 + 600)
                .encode();

        assertThat(routeStatus(node, Tokens.unsigned("alice"))).isEqualTo(401);
        // the old confusion: an HS256 token "signed" with the RSA public key as its secret
        String publicKeyAsSecret = Base64.getEncoder().encodeToString(key.getPublic().getEncoded());
        assertThat(routeStatus(node, Hs256Tokens.sign(publicKeyAsSecret, new JsonObject(claims)))).isEqualTo(401);
        String noSignature = JwksServer.rs256(key, "key-1", new JsonObject(claims));
        noSignature = noSignature.substring(0, noSignature.lastIndexOf('.') + 1);
        assertThat(routeStatus(node, noSignature)).isEqualTo(401);
        String body = FanoutNodeTest.get(node, "/route", Tokens.unsigned("alice")).body();
        assertThat(body).contains("token algorithm 'none' is not accepted");
        assertThat(new String(Base64.getUrlDecoder().decode(Tokens.unsigned("alice").split("\\.")[0]),
                StandardCharsets.UTF_8)).contains("none");
    }
}
