package dev.agentevents.bench.fanout;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The baseline of the fanout benchmark: what a team would write with Vert.x and a plain Kafka consumer, doing the
 * same transport work as a fanout node and nothing else. Same event loops and transport; the consumer (same fetch
 * settings as the node's feed, every partition of its own copy of the ordered topic) routes each record by its key
 * to that user's sockets — the user taken unverified from the token's {@code sub} — and writes a pre-rendered frame
 * of the same size and shape as the node's (position, the record's timestamp as {@code occurredAt}) from the
 * consumer's thread, as the node's feed does. No Avro decoding, no token check, no queue, resume or limits.
 */
public final class BareWsServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vertx vertx;
    private final HttpServer server;
    private final Map<String, List<ServerWebSocket>> byUser = new ConcurrentHashMap<>();
    private final FrameTemplate frames;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AtomicLong delivered = new AtomicLong();
    private final Thread reader;
    private volatile boolean running = true;

    /** A server fed from every partition of {@code topic} at {@code bootstrap}, from its end. */
    public BareWsServer(String bootstrap, String topic, FrameTemplate frames) throws Exception {
        this.frames = frames;
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true));
        server = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true))
                .webSocketHandler(this::accept)
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        reader = new Thread(this::read, "bare-ws-consumer");
        reader.start();
    }

    private void accept(ServerWebSocket socket) {
        String user = user(socket.query());
        if (user == null) {
            socket.close((short) 4401, "no token");
            return;
        }
        List<ServerWebSocket> sockets = byUser.computeIfAbsent(user, u -> new CopyOnWriteArrayList<>());
        sockets.add(socket);
        socket.closeHandler(v -> sockets.remove(socket));
        socket.writeTextMessage("{\"type\":\"welcome\",\"userId\":\"" + user + "\"}");
    }

    /** The {@code sub} of the {@code access_token} in {@code query}, unverified; null when there is none. */
    private static String user(String query) {
        if (query == null) {
            return null;
        }
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("access_token=")) {
                String[] parts = parameter.substring(13).split("\\.");
                try {
                    return parts.length < 2 ? null : JSON.readTree(Base64.getUrlDecoder().decode(parts[1]))
                            .path("sub").textValue();
                } catch (IOException | IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private void read() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    List<ServerWebSocket> sockets = byUser.get(new String(record.key(), StandardCharsets.UTF_8));
                    if (sockets == null) {
                        continue;
                    }
                    String frame = frames.frame(record.partition(), record.offset(), record.timestamp());
                    for (ServerWebSocket socket : sockets) {
                        socket.writeFrame(WebSocketFrame.textFrame(frame, true));
                        delivered.incrementAndGet();
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    public String url() {
        return "ws://127.0.0.1:" + server.actualPort() + "/ws";
    }

    /** Frames written to sockets so far. */
    long delivered() {
        return delivered.get();
    }

    @Override
    public void close() throws Exception {
        running = false;
        consumer.wakeup();
        reader.join(10_000);
        vertx.close().await(20, TimeUnit.SECONDS);
    }
}
