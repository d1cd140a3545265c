package dev.agentevents.fanout;

import io.vertx.core.Vertx;
import java.time.Duration;

/**
 * A connection lives no longer than its token: {@code FANOUT_TOKEN_EXPIRY_WARNING_MS} before {@code exp} (or at half
 * the time left, if less) the connection is warned, and at {@code exp} plus the leeway it is ended — unless
 * {@link #renew} moved the expiry on (a refresh). Timers run on the connection's event loop; {@link #cancel} when the
 * connection goes away.
 */
final class TokenLifetime {

    private final Vertx vertx;
    private final Duration warning;
    private final Runnable warn;
    private final Runnable expire;
    private long warnTimer = -1;
    private long expireTimer = -1;
    private volatile long expiresAtMs;

    TokenLifetime(Vertx vertx, long expiresAtMs, Duration warning, Runnable warn, Runnable expire) {
        this.vertx = vertx;
        this.warning = warning;
        this.warn = warn;
        this.expire = expire;
        schedule(expiresAtMs);
    }

    long expiresAtMs() {
        return expiresAtMs;
    }

    /** A refreshed token expires at {@code newExpiresAtMs}. */
    void renew(long newExpiresAtMs) {
        cancel();
        schedule(newExpiresAtMs);
    }

    void cancel() {
        if (warnTimer >= 0) {
            vertx.cancelTimer(warnTimer);
        }
        if (expireTimer >= 0) {
            vertx.cancelTimer(expireTimer);
        }
        warnTimer = -1;
        expireTimer = -1;
    }

    private void schedule(long at) {
        expiresAtMs = at;
        if (at == Long.MAX_VALUE) {
            return; // a token without exp, where FANOUT_JWT_REQUIRE_EXP=false allows one
        }
        long left = at - System.currentTimeMillis();
        long warnIn = Math.max(1, Math.min(left - warning.toMillis(), left / 2));
        warnTimer = vertx.setTimer(warnIn, id -> warn.run());
        expireTimer = vertx.setTimer(Math.max(1, left + TokenVerifier.LEEWAY_MS), id -> expire.run());
    }
}
