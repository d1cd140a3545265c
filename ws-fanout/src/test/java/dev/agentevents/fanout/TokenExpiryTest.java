package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * No socket outlives its token: {@code expiring} before {@code exp}, 4401 at {@code exp} (plus the leeway) unless
 * refreshed over the socket, 4403 for a refresh of another user; tokens without {@code exp} refused; single-use
 * tickets; token subjects that are not well-formed user ids refused with a reason.
 */
@Tag("slow")
class TokenExpiryTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static Vertx vertx;
    private static Tokens tokens;
    private FanoutFixture fixture;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
        tokens = new Tokens(vertx);
    }

    @AfterAll
    static void close() {
        vertx.close();
    }

    @BeforeEach
    void fixture() throws Exception {
        fixture = new FanoutFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    private FanoutNode node() throws Exception {
        return fixture.startSoleNode(Map.of("FANOUT_TOKEN_EXPIRY_WARNING_MS", "1000"));
    }

    @Test
    void shouldWarnBeforeTheTokenExpiresAndCloseWith4401AtExpiryWithoutARefresh() throws Exception {
        FanoutNode node = node();
        String token = tokens.expiringIn("ed", Duration.ofSeconds(3));
        long exp = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1])))
                .getLong("exp");
        try (WsClient client = WsClient.connect(vertx, WsClient.url(node, token, null))) {
            client.awaitFrame("expiring", WAIT);
            assertThat(client.ofType("expiring").get(0).getLong("exp")).isEqualTo(exp);
            assertThat(client.awaitClose(WAIT)).isEqualTo(WebSocketTransport.UNAUTHORIZED);
            assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(exp * 1000);
            assertThat(client.closeReason).contains("token expired");
        }
        assertThat(FanoutNodeTest.scrape(node)).contains("fanout_refused_total{reason=\"token_expired\"} 1.0");
    }

    @Test
    void shouldLiveOnPastExpiryWhenRefreshedAndCloseWith4403ForAnotherUsersToken() throws Exception {
        FanoutNode node = node();
        String user = "fay";
        try (WsClient client = WsClient.connect(vertx, WsClient.url(node, tokens.expiringIn(user,
                Duration.ofSeconds(3)), null))) {
            client.awaitFrame("expiring", WAIT);
            client.socket.writeTextMessage(new JsonObject().put("type", "refresh").put("token", tokens.valid(user))
                    .encode());
            client.awaitFrame("refreshed", WAIT);
            assertThat(client.ofType("refreshed").get(0).getLong("exp"))
                    .isGreaterThan(System.currentTimeMillis() / 1000 + 500);

            // well past the first token's exp and leeway, the socket still delivers
            client.assertOpenFor(Duration.ofMillis(TokenVerifier.LEEWAY_MS + 4000));
            fixture.writeAll(FanoutFixture.run(user, "run-after-refresh"));
            client.awaitEvents(5, WAIT);

            client.socket.writeTextMessage(new JsonObject().put("type", "refresh").put("token",
                    tokens.valid("mallory")).encode());
            assertThat(client.awaitClose(WAIT)).isEqualTo(WebSocketTransport.FORBIDDEN);
        }
    }

    @Test
    void shouldEndAnEventStreamAtExpiryTellingTheClientToReconnect() throws Exception {
        FanoutNode node = node();
        try (SseClient sse = SseClient.open(node, tokens.expiringIn("gil", Duration.ofSeconds(2)), null)) {
            await().atMost(WAIT).until(() -> sse.ended);
            assertThat(sse.frames()).extracting(f -> f.getString("type", "close"))
                    .containsSubsequence("welcome", "expiring", "close");
            JsonObject close = sse.frames().get(sse.frames().size() - 1);
            assertThat(close.getInteger("code")).isEqualTo(4401);
            assertThat(close.getString("reason")).contains("reconnect with a fresh token");
        }
    }

    @Test
    void shouldRefuseATokenWithoutExpUnlessTheOperatorOptsOut() throws Exception {
        FanoutNode strict = node();
        try (WsClient client = WsClient.connect(vertx, WsClient.url(strict, tokens.withoutExpiry("hal"), null))) {
            assertThat(client.awaitClose(WAIT)).isEqualTo(WebSocketTransport.UNAUTHORIZED);
            assertThat(client.closeReason).contains("token has no exp");
        }
        fixture.stop(strict);
        FanoutNode lenient = fixture.startSoleNode(Map.of("FANOUT_JWT_REQUIRE_EXP", "false"));
        try (WsClient client = WsClient.connect(vertx, WsClient.url(lenient, tokens.withoutExpiry("hal"), null))) {
            client.awaitFrame("welcome", WAIT);
        }
    }

    @Test
    void shouldOpenAStreamWithATicketFromRouteOnceOnly() throws Exception {
        FanoutNode node = node();
        JsonObject route = new JsonObject(FanoutNodeTest.get(node, "/route", tokens.valid("ike")).body());
        String ticket = route.getString("ticket");
        assertThat(ticket).isNotBlank().doesNotContain(tokens.valid("ike").split("\\.")[0]);
        String url = route.getString("url") + "?ticket=" + ticket;
        try (WsClient first = WsClient.connect(vertx, url)) {
            first.awaitFrame("welcome", WAIT);
            assertThat(first.ofType("welcome").get(0).getString("userId")).isEqualTo("ike");
        }
        try (WsClient replayed = WsClient.connect(vertx, url)) {
            assertThat(replayed.awaitClose(WAIT)).isEqualTo(WebSocketTransport.UNAUTHORIZED);
            assertThat(replayed.closeReason).contains("ticket already used");
        }
        try (WsClient forged = WsClient.connect(vertx, route.getString("url") + "?ticket=" + ticket.replace('a', 'b')
                + "x")) {
            assertThat(forged.awaitClose(WAIT)).isEqualTo(WebSocketTransport.UNAUTHORIZED);
        }
    }

    @Test
    void shouldRefuseSubjectsThatAreNotWellFormedUserIdsWithAReason() throws Exception {
        FanoutNode node = node();
        Map<String, String> expected = Map.of(
                "\ud800bob", "lone surrogate",
                "bob\u0000", "control or format character",
                "ali\u200bce", "control or format character",
                "x".repeat(600), "600 bytes");
        for (Map.Entry<String, String> sub : expected.entrySet()) {
            try (WsClient client = WsClient.connect(vertx, WsClient.url(node, tokens.withSubject(sub.getKey()),
                    null))) {
                assertThat(client.awaitClose(WAIT)).isEqualTo(WebSocketTransport.UNAUTHORIZED);
                assertThat(client.closeReason).contains(sub.getValue());
            }
        }
        try (WsClient fine = WsClient.connect(vertx, WsClient.url(node, tokens.withSubject("zoë-\ud83d\ude80"),
                null))) {
            fine.awaitFrame("welcome", WAIT);
        }
    }
}
