package dev.agentevents.fanout;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short-lived, single-use tickets that open a stream without a JWT in its URL: {@code GET /route} (token in the
 * {@code Authorization} header) gives one, {@code ?ticket=} redeems it on whichever node serves the user. A ticket is
 * the user, its own expiry ({@code FANOUT_TICKET_TTL_MS}), the token's expiry (the stream still ends with the token)
 * and a random id, signed with HMAC-SHA256 under a key all nodes share ({@code FANOUT_TICKET_SECRET}, else derived
 * from {@code FANOUT_JWT_HS256_SECRET}; with neither, a random key good for this node only). A node remembers the
 * ids it redeemed until they expire, so a ticket copied from a log opens nothing.
 */
final class Tickets {

    private static final Logger LOG = LoggerFactory.getLogger(Tickets.class);
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64_IN = Base64.getUrlDecoder();

    private final byte[] key;
    private final Duration ttl;
    private final Map<String, Long> redeemed = new ConcurrentHashMap<>();

    Tickets(byte[] key, Duration ttl) {
        this.key = key.clone();
        this.ttl = ttl;
    }

    static Tickets of(FanoutConfig config) {
        byte[] key;
        if (!FanoutConfig.blank(config.tokens().ticketSecret())) {
            key = config.tokens().ticketSecret().getBytes(StandardCharsets.UTF_8);
        } else if (!FanoutConfig.blank(config.tokens().hs256Secret())) {
            key = hmac(config.tokens().hs256Secret().getBytes(StandardCharsets.UTF_8),
                    "agent-events stream tickets".getBytes(StandardCharsets.UTF_8));
        } else {
            key = new byte[32];
            new SecureRandom().nextBytes(key);
            LOG.warn("neither FANOUT_TICKET_SECRET nor FANOUT_JWT_HS256_SECRET is set: tickets from /route open streams"
                    + " on this node only; set FANOUT_TICKET_SECRET (the same on every node) to run several");
        }
        return new Tickets(key, config.tokens().ticketTtl());
    }

    /** A ticket for {@code identity}. */
    String issue(TokenVerifier.Identity identity) {
        JsonObject body = new JsonObject().put("sub", identity.userId())
                .put("exp", System.currentTimeMillis() + ttl.toMillis())
                .put("tokenExp", identity.expiresAtMs())
                .put("id", UUID.randomUUID().toString());
        String payload = B64.encodeToString(body.encode().getBytes(StandardCharsets.UTF_8));
        return payload + "." + B64.encodeToString(hmac(key, payload.getBytes(StandardCharsets.US_ASCII)));
    }

    /** The identity a ticket stands for; once only, before it expires. */
    TokenVerifier.Identity redeem(String ticket) throws TokenException {
        return read(ticket, true);
    }

    /** The identity a valid, unexpired ticket stands for, without using it up (to pass it on to another node). */
    TokenVerifier.Identity peek(String ticket) throws TokenException {
        return read(ticket, false);
    }

    private TokenVerifier.Identity read(String ticket, boolean redeem) throws TokenException {
        int dot = ticket == null ? -1 : ticket.indexOf('.');
        if (dot < 0 || ticket.length() > 4096) {
            throw new TokenException("not a ticket");
        }
        String payload = ticket.substring(0, dot);
        byte[] signature;
        JsonObject body;
        try {
            signature = B64_IN.decode(ticket.substring(dot + 1));
            if (!MessageDigest.isEqual(signature, hmac(key, payload.getBytes(StandardCharsets.US_ASCII)))) {
                throw new TokenException("ticket signature does not match");
            }
            body = new JsonObject(new String(B64_IN.decode(payload), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | io.vertx.core.json.DecodeException e) {
            throw new TokenException("not a ticket");
        }
        long now = System.currentTimeMillis();
        long expires = body.getLong("exp", 0L);
        if (now > expires) {
            throw new TokenException("ticket expired; ask /route for a new one");
        }
        purge(now);
        if (redeem && redeemed.putIfAbsent(body.getString("id", ""), expires) != null) {
            throw new TokenException("ticket already used; ask /route for a new one");
        }
        return new TokenVerifier.Identity(body.getString("sub"), body.getLong("tokenExp", 0L));
    }

    private void purge(long now) {
        if (redeemed.size() < 1024) {
            return;
        }
        for (Iterator<Long> it = redeemed.values().iterator(); it.hasNext(); ) {
            if (it.next() < now) {
                it.remove();
            }
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no HmacSHA256", e);
        }
    }
}
