package dev.agentevents.bench.scale;

import dev.agentevents.bench.BenchReport;
import dev.agentevents.bench.Meter;
import dev.agentevents.bench.Series;
import dev.agentevents.bench.fanout.FanoutScenario;
import dev.agentevents.bench.fanout.OrderedLoad;
import dev.agentevents.bench.pipeline.PipelineScenarios;

import dev.agentevents.devstack.LocalCluster;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Thinking;
import dev.agentevents.fanout.Hs256Tokens;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The {@code scale} scenario on the multi-process local cluster (one broker, so the routers and fanout nodes are
 * what varies): events/s through 1 and 2 router processes, and frames/s to the same clients through 1 and 2 fanout
 * node processes, both at saturation. Each round starts one cluster with two processes, measures once both have
 * their share of the partitions, stops one (it leaves the group), and measures again once the other has taken over
 * everything. All processes share this machine's cores, which bounds what a second process can add.
 */
public final class ScaleScenario {

    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(120);
    /** The longest warm-up of a full run; a smoke run waits no longer than its own warm-up. */
    public static final double MAX_WARMUP_SECONDS = 15;
    private static final int STEADY_SECONDS = 3;

    private final PipelineScenarios.Settings settings;
    private final PrintStream progress;
    private final int connections;
    private final double maxWarmupSeconds;
    private final List<String> jvmOptions;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /**
     * @param maxWarmupSeconds how long a warm-up may wait for a steady rate before measuring anyway
     * @param jvmOptions more options of the cluster's processes: none to measure them compiling as in production
     */
    public ScaleScenario(PipelineScenarios.Settings settings, int connections, double maxWarmupSeconds,
                         List<String> jvmOptions, PrintStream progress) {
        this.settings = settings;
        this.connections = connections;
        this.maxWarmupSeconds = maxWarmupSeconds;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.progress = progress;
    }

    public BenchReport run() throws Exception {
        BenchReport report = new BenchReport("scale");
        Series oneRouter = report.series("1 router process");
        Series twoRouters = report.series("2 router processes");
        Series oneNode = report.series("1 fanout node, " + connections + " sockets");
        Series twoNodes = report.series("2 fanout nodes, " + connections + " sockets");
        progress.println("routers: starting the local cluster (1 broker, 2 routers) ...");
        routerRounds(twoRouters, oneRouter);
        progress.println("fanout nodes: starting the local cluster (1 broker, 2 fanout nodes) ...");
        fanoutRounds(twoNodes, oneNode);
        double routerRatio = twoRouters.rate() / oneRouter.rate();
        report.target("events/s with 2 routers ÷ with 1", routerRatio, "(no target; reported)", true);
        double fanoutRatio = twoNodes.rate() / oneNode.rate();
        report.target("frames/s with 2 fanout nodes ÷ with 1, same sockets, saturated", fanoutRatio, "≥ 1.8",
                fanoutRatio >= 1.8);
        report.note("One machine with " + Runtime.getRuntime().availableProcessors() + " cores runs the broker, every "
                + "router or fanout process, the publisher or feeder, and the clients: a second process gets no "
                + "cores of its own, so these ratios measure contention more than scaling.");
        report.note("Both sides are saturated (at most " + PipelineScenarios.MAX_IN_FLIGHT + " events in flight), so "
                + "their latency is mostly queueing: compare events/s.");
        return report;
    }

    /**
     * Saturating publisher and an ordered-topic reader; each round measures 2 routers, then 1 after stopping
     * router-2, which the next round starts again. One cluster serves every round.
     */
    private void routerRounds(Series two, Series one) throws Exception {
        Path dir = Files.createTempDirectory("bench-scale-routers");
        try (Cleanup cleanup = new Cleanup(dir); LocalCluster cluster = LocalCluster.start(new LocalCluster.Options(dir, 1, 2, 0,
                settings.partitions(), jvmOptions), step -> { })) {
            Meter meter = new Meter();
            AvroDeserializer<GenericRecord> decoder = AvroDeserializer.generic(
                    new SchemaRegistryClient(cluster.registryUrl()));
            Thread reader = orderedReader(cluster, meter, decoder);
            List<String> users = AgentSimulator.Settings.users("scale-user-", settings.users());
            try (EventPublisher publisher = EventPublisher.create(PublisherConfig.of(cluster.bootstrapServers(),
                    cluster.registryUrl()))) {
                List<LocalCluster.Service> both = List.of(cluster.service("router-1"), cluster.service("router-2"));
                awaitRouters(both);
                AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, 0, 0.05, 2,
                        0, System.nanoTime()), new AgentSimulator.Listener() { });
                simulator.holdWhile(() -> simulator.stats().sent() - meter.arrivals()
                        > PipelineScenarios.MAX_IN_FLIGHT).start();
                for (int round = 1; round <= settings.rounds(); round++) {
                    if (round > 1) {
                        progress.println("  starting router-2 again ...");
                        cluster.service("router-2").process().start();
                        awaitRouters(both);
                    }
                    two.add(warmAndMeasure(meter));
                    progress.println("  stopping router-2; router-1 takes over its partitions ...");
                    cluster.service("router-2").process().stop(30);
                    awaitRouters(List.of(cluster.service("router-1")));
                    one.add(warmAndMeasure(meter));
                    progress.printf("  round %d/%d: 2 routers %s events/s, 1 router %s events/s%n", round,
                            settings.rounds(), BenchReport.fmt(two.rounds.get(round - 1).perSecondRate()),
                            BenchReport.fmt(one.rounds.get(round - 1).perSecondRate()));
                }
                simulator.stop();
            } finally {
                reader.interrupt();
                reader.join(10_000);
            }
        }
    }

    /** Deletes a round's directory once its cluster is closed (resources close in reverse order). */
    private record Cleanup(Path dir) implements AutoCloseable {
        @Override
        public void close() {
            EmbeddedKafka.deleteRecursively(dir);
        }
    }

    /**
     * Warms up until the rate is steady, then measures. Freshly started router JVMs take many seconds to reach their
     * rate (the first run measured two cold routers climbing from 100 to 3,600 events/s against one warm router at
     * 15,000): so the warm-up lasts until {@link #STEADY_SECONDS} consecutive seconds are within 15 % of their mean,
     * at least the configured warm-up and at most {@code maxWarmupSeconds}.
     */
    private Meter.Sample warmAndMeasure(Meter meter) throws InterruptedException {
        List<Double> rates = new ArrayList<>();
        long start = System.nanoTime();
        while (true) {
            rates.add((double) Meter.measure(meter, 1).count());
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (elapsed >= settings.warmupSeconds() && steady(rates) || elapsed >= maxWarmupSeconds) {
                break;
            }
        }
        progress.printf("    warmed up %d s (events/s: %s)%n", rates.size(), rates.stream()
                .map(r -> BenchReport.fmt(r)).collect(java.util.stream.Collectors.joining(" ")));
        return Meter.measure(meter, settings.seconds());
    }

    private static boolean steady(List<Double> rates) {
        if (rates.size() < STEADY_SECONDS) {
            return false;
        }
        List<Double> last = rates.subList(rates.size() - STEADY_SECONDS, rates.size());
        double mean = last.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        return mean > 0 && last.stream().allMatch(r -> Math.abs(r - mean) <= 0.15 * mean);
    }

    /** Waits until every router in {@code live} is RUNNING with tasks, and together they have every partition. */
    private void awaitRouters(List<LocalCluster.Service> live) throws Exception {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            int total = 0;
            boolean allRunning = true;
            StringBuilder seen = new StringBuilder();
            for (LocalCluster.Service router : live) {
                JsonObject health = health(router);
                int tasks = health == null ? 0 : health.getInteger("activeTasks", 0);
                allRunning &= health != null && "RUNNING".equals(health.getString("streams")) && tasks > 0;
                total += tasks;
                seen.append(router.name()).append('=').append(health == null ? "down" : health.encode()).append(' ');
            }
            if (allRunning && total == settings.partitions()) {
                return;
            }
            last = seen.toString();
            Thread.sleep(250);
        }
        throw new IllegalStateException("routers did not settle within " + SETTLE_TIMEOUT.toSeconds() + " s: " + last);
    }

    private JsonObject health(LocalCluster.Service service) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(service.healthUrl()))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return new JsonObject(response.body());
        } catch (Exception e) {
            return null;
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

    /**
     * A saturating feeder and clients for every user on the node that serves them; each round measures with 2 nodes,
     * then stops fanout-2 and measures again with every client on fanout-1. One cluster serves every round.
     */
    private void fanoutRounds(Series two, Series one) throws Exception {
        Path dir = Files.createTempDirectory("bench-scale-fanout");
        try (Cleanup cleanup = new Cleanup(dir); LocalCluster cluster = LocalCluster.start(new LocalCluster.Options(dir, 1, 0, 2,
                settings.partitions(), jvmOptions), step -> { })) {
            List<LocalCluster.Service> nodes = List.of(cluster.service("fanout-1"), cluster.service("fanout-2"));
            for (int round = 1; round <= settings.rounds(); round++) {
                if (round > 1) {
                    progress.println("  starting fanout-2 again ...");
                    cluster.service("fanout-2").process().start();
                }
                awaitNodes(nodes);
                two.add(measureFanout(cluster, nodes, dir));
                progress.println("  stopping fanout-2; fanout-1 takes over its partitions ...");
                cluster.service("fanout-2").process().stop(30);
                awaitNodes(List.of(cluster.service("fanout-1")));
                one.add(measureFanout(cluster, List.of(cluster.service("fanout-1")), dir));
                progress.printf("  round %d/%d: 2 nodes %s frames/s, 1 node %s frames/s%n", round, settings.rounds(),
                        BenchReport.fmt(two.rounds.get(round - 1).perSecondRate()),
                        BenchReport.fmt(one.rounds.get(round - 1).perSecondRate()));
            }
        }
    }

    /** Waits until the nodes in {@code live} together own every partition, each some. */
    private void awaitNodes(List<LocalCluster.Service> live) throws Exception {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            int total = 0;
            boolean each = true;
            for (LocalCluster.Service node : live) {
                JsonObject health = health(node);
                int partitions = health == null ? 0 : health.getInteger("partitions", 0);
                each &= partitions > 0;
                total += partitions;
            }
            if (each && total == settings.partitions()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("fanout nodes did not settle within " + SETTLE_TIMEOUT.toSeconds() + " s");
    }

    private Meter.Sample measureFanout(LocalCluster cluster, List<LocalCluster.Service> nodes, Path dir)
            throws Exception {
        Map<String, List<String>> usersByNode = route(cluster, nodes.get(0));
        List<FanoutScenario.LoadClient> clients = new ArrayList<>();
        try {
            for (Map.Entry<String, List<String>> node : usersByNode.entrySet()) {
                Path file = dir.resolve("users-" + System.nanoTime() + ".txt");
                Files.write(file, node.getValue());
                clients.add(FanoutScenario.LoadClient.start(node.getKey(), node.getValue().size(), file,
                        cluster.demoSecret(), false));
            }
            Thread feeder = feeder(cluster, nodes);
            try {
                List<Meter.Sample> parts = new ArrayList<>();
                List<Thread> measuring = new ArrayList<>();
                for (FanoutScenario.LoadClient client : clients) {
                    Thread t = new Thread(() -> {
                        try {
                            Meter.Sample sample = client.measure(settings.warmupSeconds(), settings.seconds());
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

    /** Which node serves which user now, asked of any node's /route. */
    private Map<String, List<String>> route(LocalCluster cluster, LocalCluster.Service via) throws Exception {
        String node = via.address();
        Vertx vertx = Vertx.vertx();
        try {
            Map<String, List<String>> byUrl = new HashMap<>();
            for (int i = 0; i < connections; i++) {
                String user = "load-" + i;
                String token = Hs256Tokens.issue(cluster.demoSecret(), user, Duration.ofHours(2));
                String url = null;
                for (int attempt = 0; attempt < 100 && url == null; attempt++) {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "route"))
                            .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        url = new JsonObject(response.body()).getString("url");
                    } else {
                        Thread.sleep(200);
                    }
                }
                if (url == null) {
                    throw new IllegalStateException("no node would serve " + user + " via " + node);
                }
                byUrl.computeIfAbsent(url, k -> new ArrayList<>()).add(user);
            }
            return byUrl;
        } finally {
            vertx.close();
        }
    }

    /**
     * Writes the ordered topic (see {@link OrderedLoad}) as fast as the nodes deliver: it holds while more than
     * {@link PipelineScenarios#MAX_IN_FLIGHT} events are ahead of the frames the nodes report delivered.
     */
    private Thread feeder(LocalCluster cluster, List<LocalCluster.Service> nodes) {
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer());
        AgentEvent template = AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType("agent_thinking")
                .setUserId("load-0").setThreadId("t").setRunId(UUID.randomUUID().toString()).setSeq(1)
                .setOccurredAt(Instant.now()).setAgent(AgentInfo.newBuilder().setId("a").setName("Research assistant")
                        .setVersion("1").build())
                .setThinking(new Thinking("Checking the primary source before answering.")).build();
        OrderedLoad load = OrderedLoad.viaRegistry(template, "load-", connections, Topics.defaults().ordered(),
                cluster.registryUrl());
        Thread feeder = new Thread(() -> {
            long deliveredBefore = delivered(nodes);
            long delivered = deliveredBefore;
            long checkedAt = System.nanoTime();
            long sent = 0;
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    if (System.nanoTime() - checkedAt > 100_000_000L) {
                        delivered = delivered(nodes);
                        checkedAt = System.nanoTime();
                    }
                    if (sent - (delivered - deliveredBefore) > PipelineScenarios.MAX_IN_FLIGHT) {
                        Thread.sleep(5);
                        continue;
                    }
                    producer.send(load.record(sent));
                    sent++;
                }
            } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
                Thread.currentThread().interrupt();
            } finally {
                producer.close(Duration.ofSeconds(5));
            }
        }, "scale-feeder");
        feeder.start();
        return feeder;
    }

    /** Frames the nodes have delivered so far, from their /metrics. */
    private long delivered(List<LocalCluster.Service> nodes) {
        long total = 0;
        for (LocalCluster.Service node : nodes) {
            // a node that does not answer delivered nothing more
            total += (long) node.metric(http, "fanout_frames_delivered_total").orElse(0);
        }
        return total;
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
