package dev.agentevents.fanout;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many client connections this node holds, in all, per client address and per user — each counted atomically
 * across the node's event loops, so two connections racing for the last slot cannot both get it. A connection
 * reserves its node and address slots before its upgrade and its user slot once the token names the user; one
 * {@link Reservation#release()} gives them all back. The client address is the peer's, or — when the peer is one of
 * {@code FANOUT_TRUSTED_PROXIES} (addresses or IPv4 blocks) — the right-most address of {@code X-Forwarded-For} that is not a trusted proxy.
 */
final class ConnectionLimits {

    /** Why a reservation was refused. */
    enum Full { NODE, ADDRESS }

    private final int maxConnections;
    private final int maxPerAddress;
    private final int maxPerUser;
    private final Set<String> trustedProxies;
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, Integer> byAddress = new ConcurrentHashMap<>();
    private final Map<String, Integer> byUser = new ConcurrentHashMap<>();

    ConnectionLimits(FanoutConfig config) {
        this.maxConnections = config.clients().maxConnections();
        this.maxPerAddress = config.clients().maxPerAddress();
        this.maxPerUser = config.clients().maxPerUser();
        this.trustedProxies = Set.copyOf(config.clients().trustedProxies());
    }

    /** The client's address, seen through trusted proxies only. */
    String clientAddress(HttpServerRequest request) {
        SocketAddress peer = request.remoteAddress();
        String address = peer == null ? "unknown" : peer.hostAddress();
        if (!trusted(address)) {
            return address;
        }
        String forwarded = request.getHeader("X-Forwarded-For");
        if (forwarded == null) {
            return address;
        }
        String[] hops = forwarded.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trusted(hop)) {
                return hop.length() > 64 ? hop.substring(0, 64) : hop;
            }
        }
        return address;
    }

    /** The slots a new connection got, or (reservation null) the limit that is reached. */
    record Reserved(Reservation reservation, Full full) {
    }

    /** Whether {@code address} is a trusted proxy: listed, or inside a listed IPv4 block ({@code 10.0.0.0/8}). */
    boolean trusted(String address) {
        for (String proxy : trustedProxies) {
            int slash = proxy.indexOf('/');
            if (slash < 0 ? proxy.equals(address) : inBlock(address, proxy.substring(0, slash),
                    Integer.parseInt(proxy.substring(slash + 1)))) {
                return true;
            }
        }
        return false;
    }

    private static boolean inBlock(String address, String network, int bits) {
        long ip = ipv4(address);
        long net = ipv4(network);
        if (ip < 0 || net < 0 || bits < 0 || bits > 32) {
            return false;
        }
        long mask = bits == 0 ? 0 : (0xFFFFFFFFL << (32 - bits)) & 0xFFFFFFFFL;
        return (ip & mask) == (net & mask);
    }

    private static long ipv4(String text) {
        String[] parts = text.split("\\.");
        if (parts.length != 4) {
            return -1;
        }
        long value = 0;
        try {
            for (String part : parts) {
                int octet = Integer.parseInt(part);
                if (octet < 0 || octet > 255) {
                    return -1;
                }
                value = value << 8 | octet;
            }
        } catch (NumberFormatException e) {
            return -1;
        }
        return value;
    }

    /** A node and an address slot for a new connection from {@code address}. */
    Reserved reserve(String address) {
        if (total.incrementAndGet() > maxConnections) {
            total.decrementAndGet();
            return new Reserved(null, Full.NODE);
        }
        boolean[] full = {false};
        byAddress.compute(address, (a, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerAddress) {
                full[0] = true;
                return count;
            }
            return now + 1;
        });
        if (full[0]) {
            total.decrementAndGet();
            return new Reserved(null, Full.ADDRESS);
        }
        return new Reserved(new Reservation(address), null);
    }

    int open() {
        return total.get();
    }

    int openFrom(String address) {
        return byAddress.getOrDefault(address, 0);
    }

    /** One connection's slots. */
    final class Reservation {
        private final String address;
        private volatile String user;
        private final AtomicBoolean released = new AtomicBoolean();

        private Reservation(String address) {
            this.address = address;
        }

        /** Takes a slot of {@code userId}; false when the user has {@code FANOUT_MAX_CONNECTIONS_PER_USER} already. */
        boolean claimUser(String userId) {
            boolean[] granted = {false};
            byUser.compute(userId, (u, count) -> {
                int now = count == null ? 0 : count;
                if (now >= maxPerUser) {
                    return count;
                }
                granted[0] = true;
                return now + 1;
            });
            if (granted[0]) {
                user = userId;
            }
            return granted[0];
        }

        /** Gives every slot back; once. */
        void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            total.decrementAndGet();
            byAddress.computeIfPresent(address, (a, count) -> count <= 1 ? null : count - 1);
            String held = user;
            if (held != null) {
                byUser.computeIfPresent(held, (u, count) -> count <= 1 ? null : count - 1);
            }
        }
    }
}
