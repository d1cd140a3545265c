package dev.agentevents.bench.fanout;

import dev.agentevents.bench.Meter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.fanout.Hs256Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The fanout benchmark's clients, in their own JVM (one process may hold only 20,000 file descriptors): opens N
 * WebSockets (socket i for user {@code load-i}, or for line i of a users file; tokens signed with the benchmark's
 * secret), prints {@code CONNECTED n},
 * With {@code -Dload.deflate=true} each socket offers permessage-deflate as Chromium does ({@code
 * client_max_window_bits}, context takeover both ways unless the server says otherwise), and the second number
 * printed is how many sockets the server agreed it on ({@code CONNECTED n deflated}).
 * Then, for every {@code MEASURE <seconds>} line on stdin measures frames received and their latency (from the
 * frame's occurredAt, same host clock) and prints one JSON line. It runs until it is killed or its stdin closes.
 */
final class FanoutLoadClient {

    private FanoutLoadClient() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String secret = args[1];
        int count = Integer.parseInt(args[2]);
        List<String> users = args.length > 3 ? java.nio.file.Files.readAllLines(java.nio.file.Path.of(args[3])) : null;
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
        boolean deflate = Boolean.getBoolean("load.deflate");
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
                .setTryUsePerMessageCompression(deflate));
        java.util.concurrent.atomic.AtomicInteger deflated = new java.util.concurrent.atomic.AtomicInteger();
        Meter meter = new Meter();
        List<Future<?>> pending = new ArrayList<>();
        int connected = 0;
        for (int i = 0; i < count; i++) {
            ClientWebSocket socket = client.webSocket();
            socket.textMessageHandler(text -> {
                int at = text.indexOf("\"occurredAt\":");
                if (at > 0) {
                    int end = at + 13;
                    long created = 0;
                    while (end < text.length() && Character.isDigit(text.charAt(end))) {
                        created = created * 10 + (text.charAt(end++) - '0');
                    }
                    meter.record((System.currentTimeMillis() - created) * 1000);
                }
            });
            String token = Hs256Tokens.issue(secret, users != null ? users.get(i) : "load-" + i, Duration.ofHours(2));
            pending.add(socket.connect(new WebSocketConnectOptions().setAbsoluteURI(url + "?access_token=" + token))
                    .onSuccess(ws -> {
                        String extensions = ws.headers().get("sec-websocket-extensions");
                        if (extensions != null && extensions.contains("permessage-deflate")) {
                            deflated.incrementAndGet();
                        }
                    }));
            if (pending.size() == 200) {
                connected += settle(pending);
            }
        }
        connected += settle(pending);
        System.out.println("CONNECTED " + connected + " " + deflated.get());
        System.out.flush();
        ObjectMapper json = new ObjectMapper();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = commands.readLine()) != null) {
            if (line.startsWith("MEASURE ")) {
                Meter.Sample sample = Meter.measure(meter, Double.parseDouble(line.substring(8)));
                ObjectNode result = json.createObjectNode().put("frames", sample.count())
                        .put("seconds", sample.seconds()).put("framesPerSecond", sample.perSecondRate())
                        .put("p50Ms", sample.millis(50)).put("p99Ms", sample.millis(99))
                        .put("p999Ms", sample.millis(99.9)).put("maxMs", sample.maxMillis());
                ArrayNode perSecond = result.putArray("perSecond");
                sample.perSecond().forEach(perSecond::add);
                var histogram = java.util.Base64.getEncoder().encodeToString(encode(sample.latency()));
                result.put("histogram", histogram);
                System.out.println(result);
                System.out.flush();
            }
        }
        vertx.close().await(10, TimeUnit.SECONDS);
        System.exit(0);
    }

    private static byte[] encode(org.HdrHistogram.Histogram histogram) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoCompressedByteBuffer(buffer);
        return java.util.Arrays.copyOf(buffer.array(), length);
    }

    private static int settle(List<Future<?>> pending) {
        int ok = 0;
        for (Future<?> f : pending) {
            try {
                f.await(60, TimeUnit.SECONDS);
                ok++;
            } catch (Exception e) {
                // counted as not connected
            }
        }
        pending.clear();
        return ok;
    }
}
