package dev.agentevents.bench;

import dev.agentevents.devstack.LocalCluster;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.schemas.AvroDeserializer;
import dev.agentevents.schemas.AvroSerializer;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.schemas.SchemaRegistryClient;
import dev.agentevents.schemas.Topics;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The {@code scale} scenario on the multi-process local cluster (one broker, so the routers and fanout nodes are
 * what varies): events/s through 1 and 2 router processes, and frames/s to the same clients through 1 and 2 fanout
 * node processes. All processes share this machine's cores, which bounds what a second process can add.
 */
final class ScaleScenario {

    private final PipelineScenarios.Settings settings;
    private final PrintStream progress;
    private final int connections;

    ScaleScenario(PipelineScenarios.Settings settings, int connections, PrintStream progress) {
        this.settings = settings;
        this.connections = connections;
        this.progress = progress;
    }

    BenchReport run() throws Exception {
        BenchReport report = new BenchReport("scale");
        for (int routers = 1; routers <= 2; routers++) {
            Series series = report.series(routers + " router process" + (routers > 1 ? "es" : ""));
            for (int round = 1; round <= settings.rounds(); round++) {
                progress.printf("%d router(s), round %d/%d: starting the local cluster ...%n", routers, round,
                        settings.rounds());
                series.add(routerRound(routers));
            }
        }
        double routerRatio = report.series("2 router processes").rate() / report.series("1 router process").rate();
        report.target("events/s with 2 routers ÷ with 1", routerRatio, "(report)", true);
        for (int nodes = 1; nodes <= 2; nodes++) {
            Series series = report.series(nodes + " fanout node" + (nodes > 1 ? "s" : "") + ", " + connections
                    + " sockets");
            for (int round = 1; round <= settings.rounds(); round++) {
                progress.printf("%d fanout node(s), round %d/%d: starting the local cluster ...%n", nodes, round,
                        settings.rounds());
                series.add(fanoutRound(nodes));
            }
        }
        double fanoutRatio = report.series("2 fanout nodes, " + connections + " sockets").rate()
                / report.series("1 fanout node, " + connections + " sockets").rate();
        report.target("frames/s with 2 fanout nodes ÷ with 1, same sockets", fanoutRatio, "≥ 1.8",
                fanoutRatio >= 1.8);
        report.note("One machine with " + Runtime.getRuntime().availableProcessors() + " cores runs the broker, every "
                + "router or fanout process, the publisher or feeder, and the clients: a second process gets no "
                + "cores of its own, so these ratios measure contention more than scaling.");
        return report;
    }

    private Meter.Sample routerRound(int routers) throws Exception {
        Path dir = Files.createTempDirectory("bench-scale-routers");
        try (LocalCluster cluster = LocalCluster.start(new LocalCluster.Options(dir, 1, routers, 0,
                settings.partitions()), step -> { })) {
            Meter meter = new Meter();
            AvroDeserializer<GenericRecord> decoder = AvroDeserializer.generic(
                    new SchemaRegistryClient(cluster.registryUrl()));
            Thread reader = orderedReader(cluster, meter, decoder);
            List<String> users = AgentSimulator.Settings.users("scale-user-", settings.users());
            try (EventPublisher publisher = EventPublisher.create(PublisherConfig.of(cluster.bootstrapServers(),
                    cluster.registryUrl()))) {
                AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, 0, 0.05, 2,
                        0, System.nanoTime()), new AgentSimulator.Listener() { });
                simulator.holdWhile(() -> simulator.stats().sent() - meter.arrivals()
                        > PipelineScenarios.MAX_IN_FLIGHT).start();
                Thread.sleep((long) ((settings.warmupSeconds() + 3) * 1000));
                Meter.Sample sample = Meter.measure(meter, settings.seconds());
                simulator.stop();
                return sample;
            } finally {
                reader.interrupt();
                reader.join(10_000);
            }
        }
    }

    private Thread orderedReader(LocalCluster cluster, Meter meter, AvroDeserializer<GenericRecord> decoder) {
        Thread reader = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, "scale-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(Topics.defaults().ordered()));
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                        GenericRecord ordered = decoder.deserialize(record.topic(), record.value());
                        GenericRecord event = (GenericRecord) ordered.get("event");
                        long created = event == null ? -1 : (Long) event.get("occurredAt");
                        meter.record(created < 0 ? -1 : (System.currentTimeMillis() - created) * 1000);
                    }
                }
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                Thread.currentThread().interrupt();
            }
        }, "scale-ordered-reader");
        reader.start();
        return reader;
    }

    private Meter.Sample fanoutRound(int nodes) throws Exception {
        Path dir = Files.createTempDirectory("bench-scale-fanout");
        try (LocalCluster cluster = LocalCluster.start(new LocalCluster.Options(dir, 1, 0, nodes,
                settings.partitions()), step -> { })) {
            Map<String, List<String>> usersByNode = route(cluster);
            List<FanoutScenario.LoadClient> clients = new ArrayList<>();
            try {
                for (Map.Entry<String, List<String>> node : usersByNode.entrySet()) {
                    Path file = dir.resolve("users-" + clients.size() + ".txt");
                    Files.write(file, node.getValue());
                    clients.add(FanoutScenario.LoadClient.start(node.getKey(), node.getValue().size(), file,
                            cluster.demoSecret()));
                }
                Thread feeder = feeder(cluster);
                try {
                    List<Meter.Sample> parts = new ArrayList<>();
                    List<Thread> measuring = new ArrayList<>();
                    for (FanoutScenario.LoadClient client : clients) {
                        Thread t = new Thread(() -> {
                            try {
                                Meter.Sample sample = client.measure(settings.warmupSeconds() + 2, settings.seconds());
                                synchronized (parts) {
                                    parts.add(sample);
                                }
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        });
                        t.start();
                        measuring.add(t);
                    }
                    for (Thread t : measuring) {
                        t.join();
                    }
                    return combine(parts);
                } finally {
                    feeder.interrupt();
                    feeder.join(10_000);
                }
            } finally {
                for (FanoutScenario.LoadClient client : clients) {
                    client.close();
                }
            }
        }
    }

    /** Which node serves which user now, asked of any node's /route. */
    private Map<String, List<String>> route(LocalCluster cluster) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String node = cluster.service("fanout-1").address();
        io.vertx.ext.auth.jwt.JWTAuth jwt = io.vertx.ext.auth.jwt.JWTAuth.create(io.vertx.core.Vertx.vertx(),
                new io.vertx.ext.auth.jwt.JWTAuthOptions().addPubSecKey(new io.vertx.ext.auth.PubSecKeyOptions()
                        .setAlgorithm("HS256").setBuffer(cluster.demoSecret())));
        Map<String, List<String>> byUrl = new HashMap<>();
        for (int i = 0; i < connections; i++) {
            String user = "load-" + i;
            String token = jwt.generateToken(new io.vertx.core.json.JsonObject().put("sub", user));
            String url = null;
            for (int attempt = 0; attempt < 100 && url == null; attempt++) {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "route"))
                        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    url = new io.vertx.core.json.JsonObject(response.body()).getString("url");
                } else {
                    Thread.sleep(200);
                }
            }
            byUrl.computeIfAbsent(url, k -> new ArrayList<>()).add(user);
        }
        return byUrl;
    }

    private Thread feeder(LocalCluster cluster) {
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer());
        AvroSerializer<OrderedEvent> serializer = new AvroSerializer<>(new SchemaRegistryClient(cluster.registryUrl()),
                Map.of(), false);
        AgentEvent template = AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType("agent_thinking")
                .setUserId("load-0").setThreadId("t").setRunId(UUID.randomUUID().toString()).setSeq(1)
                .setOccurredAt(Instant.now()).setAgent(AgentInfo.newBuilder().setId("a").setName("Research assistant")
                        .setVersion("1").build())
                .setThinking(new Thinking("Checking the primary source before answering.")).build();
        Thread feeder = new Thread(() -> {
            Pacer pacer = new Pacer(20_000);
            long sent = 0;
            while (!Thread.currentThread().isInterrupted()) {
                if (sent % 1000 == 0 && Thread.interrupted()) {
                    break;
                }
                pacer.await();
                String user = "load-" + (sent % connections);
                AgentEvent event = AgentEvent.newBuilder(template).setUserId(user).setSeq(sent)
                        .setOccurredAt(Instant.now()).build();
                try {
                    producer.send(new ProducerRecord<>(Topics.defaults().ordered(),
                            user.getBytes(StandardCharsets.UTF_8), serializer.serialize(Topics.defaults().ordered(),
                                    OrderedRecords.event(HashChain.GENESIS, event, Instant.now(), null))));
                } catch (org.apache.kafka.common.errors.InterruptException e) {
                    break;
                }
                sent++;
            }
            producer.close(Duration.ofSeconds(5));
        }, "scale-feeder");
        feeder.start();
        return feeder;
    }

    private static Meter.Sample combine(List<Meter.Sample> parts) {
        org.HdrHistogram.Histogram all = new org.HdrHistogram.Histogram(3_600_000_000L, 3);
        long count = 0;
        double seconds = 0;
        List<Double> perSecond = new ArrayList<>();
        for (Meter.Sample part : parts) {
            all.add(part.latency());
            count += part.count();
            seconds = Math.max(seconds, part.seconds());
            for (int i = 0; i < part.perSecond().size(); i++) {
                if (perSecond.size() <= i) {
                    perSecond.add(0.0);
                }
                perSecond.set(i, perSecond.get(i) + part.perSecond().get(i));
            }
        }
        return new Meter.Sample(count, seconds, all, perSecond);
    }
}
