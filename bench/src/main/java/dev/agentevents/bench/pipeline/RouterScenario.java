package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.BenchReport;
import dev.agentevents.bench.Meter;
import dev.agentevents.bench.Series;
import dev.agentevents.embedded.EmbeddedKafka;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.router.RouterApp;
import dev.agentevents.router.RouterConfig;
import dev.agentevents.schemas.Topics;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The {@code router} scenario: the router draining a pre-filled input topic against the bare exactly-once Streams
 * hop ({@link BareStreamsHop#streams}) draining the same topic — same partitions, commit interval, producer linger
 * and compression, the same realistic events (the simulator's runs, each event once, in order) — one after the other
 * in each round, each with a fresh application id. Measures events/s from the first output record to the last that
 * a {@code read_committed} consumer sees (the same consumer for both), and CPU time per event of the app's own
 * threads (its stream threads and their clients' I/O threads: every live thread whose name holds the application id).
 */
public final class RouterScenario {

    private static final String GUARANTEE = StreamsConfig.EXACTLY_ONCE_V2;
    private static final Duration COMMIT = Duration.ofMillis(50);

    private final EmbeddedStack stack;
    private final PipelineScenarios.Settings settings;
    private final PrintStream progress;
    private int prefixes;

    public RouterScenario(EmbeddedStack stack, PipelineScenarios.Settings settings, PrintStream progress) {
        this.stack = stack;
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Pre-fills one input topic with about {@code events} events; each side drains it once per round, and once more
     * before the first round, not counted, when {@code warmUp} (the JVM compiles each side's code on its first drain:
     * a cold first round ran at half the rate of the next ones).
     */
    public BenchReport run(int events, boolean warmUp) throws Exception {
        BenchReport report = new BenchReport("router");
        String prefix = "bench-router-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
        Topics topics = stack.topicsWithPrefix(prefix, settings.partitions());
        List<String> users = AgentSimulator.Settings.users("router-user-", settings.users());
        progress.printf("pre-filling %s with about %,d events of %d users ...%n", topics.events(), events,
                users.size());
        // the simulator's runs have about 15 events each
        EventPool pool = EventPool.of(users, Math.max(1, events / 15), stack.registryUrl(), topics.events());
        fill(topics.events(), pool);
        int total = pool.size();
        progress.printf("  %,d events, %.0f bytes on average%n", total, pool.averageValueBytes());
        Series bare = report.series("bare Streams hop draining " + total + " events");
        Series router = report.series("router draining " + total + " events");
        if (warmUp) {
            progress.println("warm-up (not counted): bare hop, then router ...");
            drainBare(prefix, topics.events(), total);
            drainRouter(prefix, total);
        }
        List<Double> bareCpu = new ArrayList<>();
        List<Double> routerCpu = new ArrayList<>();
        for (int round = 1; round <= settings.rounds(); round++) {
            progress.printf("round %d/%d: bare hop ...%n", round, settings.rounds());
            Drain b = drainBare(prefix, topics.events(), total);
            bare.add(b.sample());
            bareCpu.add(b.cpuNanosPerEvent());
            progress.printf("round %d/%d: router ...%n", round, settings.rounds());
            Drain r = drainRouter(prefix, total);
            router.add(r.sample());
            routerCpu.add(r.cpuNanosPerEvent());
            progress.printf("  bare %s events/s (%.1f µs CPU per event), router %s events/s (%.1f µs), router wrote "
                    + "%,d of %,d%n", BenchReport.fmt(b.sample().perSecondRate()), b.cpuNanosPerEvent() / 1000,
                    BenchReport.fmt(r.sample().perSecondRate()), r.cpuNanosPerEvent() / 1000, r.sample().count(),
                    total);
        }
        double ratio = router.rate() / bare.rate();
        report.target("router events/s ÷ bare Streams hop, draining the same topic", ratio, "≥ 0.5", ratio >= 0.5);
        double bareCpuMedian = Series.median(bareCpu.stream().mapToDouble(Double::doubleValue));
        double routerCpuMedian = Series.median(routerCpu.stream().mapToDouble(Double::doubleValue));
        report.target("bare hop CPU per event (µs, median of rounds)", bareCpuMedian / 1000, "(reported)", true);
        report.target("router CPU per event (µs, median of rounds)", routerCpuMedian / 1000, "(reported)", true);
        report.target("router CPU per event ÷ bare hop's", routerCpuMedian / bareCpuMedian, "(reported)", true);
        report.extra().put("ratio", ratio);
        report.note((warmUp ? "Each side drained the topic once before the first round (not counted). " : "")
                + "Both drain the same pre-filled topic (" + settings.partitions() + " partitions) with "
                + "exactly_once_v2, commit 50 ms, " + settings.streamThreads() + " stream thread(s), producer linger "
                + "5 ms and lz4; the bare hop copies each record, the router validates, dedupes, orders and chains it "
                + "and keeps run state. Rates run from the first output record to the last (the start and first "
                + "rebalance left out); CPU counts the app's own threads only (not the broker's, in the same JVM).");
        return report;
    }

    /**
     * Writes every event of {@code pool} to {@code topic} once, in order, after every partition has a leader. A
     * partition created a moment ago once answered an idempotent producer's first batch with NOT_LEADER and refused
     * its resends as out of sequence until the delivery timeout (two minutes), losing them silently; so this
     * producer is not idempotent and sends one request per partition at a time (order kept by the single request
     * in flight), and a failed send fails the scenario, naming what was not written.
     */
    private void fill(String topic, EventPool pool) throws InterruptedException {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            awaitLeaders(producer, topic);
            AtomicLong failed = new AtomicLong();
            AtomicReference<Exception> firstFailure = new AtomicReference<>();
            for (int i = 0; i < pool.size(); i++) {
                EventPool.Entry entry = pool.next();
                producer.send(new ProducerRecord<>(topic, entry.key(), entry.value()), (metadata, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
            if (failed.get() > 0) {
                throw new IllegalStateException(failed.get() + " of " + pool.size() + " events could not be written "
                        + "to " + topic + ": " + firstFailure.get().getMessage(), firstFailure.get());
            }
        }
    }

    private static void awaitLeaders(KafkaProducer<byte[], byte[]> producer, String topic)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (producer.partitionsFor(topic).stream().anyMatch(p -> p.leader() == null || p.leader().isEmpty())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("partitions of " + topic + " have no leader after 30 s");
            }
            Thread.sleep(100); // the producer's metadata has no callback for "every partition has a leader"
        }
    }

    /** One drain: its rate as a sample (its count: the records the output got), CPU of the app's threads per record. */
    private record Drain(Meter.Sample sample, double cpuNanosPerEvent) {
    }

    private Drain drainBare(String prefix, String in, int total) throws Exception {
        String id = prefix + "bare-" + (++prefixes);
        String out = id + "-out";
        try (Admin admin = stack.kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(out, settings.partitions(), (short) 1))).all().get();
        }
        Path state = Files.createTempDirectory("bench-router-bare");
        KafkaStreams streams = BareStreamsHop.streams(stack, id, in, out, GUARANTEE, COMMIT, settings.streamThreads(),
                state);
        try {
            return drain(out, total, id, streams::start);
        } finally {
            streams.close(CloseOptions.timeout(Duration.ofSeconds(20))
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            EmbeddedKafka.deleteRecursively(state);
        }
    }

    private Drain drainRouter(String prefix, int total) throws Exception {
        String id = prefix + "router-" + (++prefixes);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        env.put("AGENT_EVENTS_TOPIC_PREFIX", prefix);
        env.put("ROUTER_APPLICATION_ID", id);
        env.put("ROUTER_PROCESSING_GUARANTEE", GUARANTEE);
        env.put("ROUTER_COMMIT_INTERVAL_MS", Long.toString(COMMIT.toMillis()));
        env.put("ROUTER_THREADS", Integer.toString(settings.streamThreads()));
        Path state = Files.createTempDirectory("bench-router");
        env.put("ROUTER_STATE_DIR", state.toString());
        env.put("ROUTER_HTTP_PORT", "0");
        RouterApp[] router = new RouterApp[1];
        // each round's router writes the same ordered topic; its records are counted from where it stood
        try {
            return drain(new Topics(prefix).ordered(), total, id,
                    () -> router[0] = RouterApp.start(RouterConfig.fromEnv(env)));
        } finally {
            if (router[0] != null) {
                router[0].close(Duration.ofSeconds(20));
            }
            EmbeddedKafka.deleteRecursively(state);
        }
    }

    /**
     * Starts an app with {@code start} and counts what it writes to {@code out} (from the topic's end now) until
     * {@code total} records arrived or nothing more arrived for 5 s; the rate runs from the first record to the last,
     * so the app's start and first rebalance are not in it.
     */
    private Drain drain(String out, int total, String threadsOf, Runnable start) throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(out).stream()
                    .map(p -> new TopicPartition(out, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            long startNanos = System.nanoTime();
            start.run();
            long records = 0;
            long firstArrival = 0;
            long lastArrival = startNanos;
            while (records < total && System.nanoTime() - lastArrival < (records == 0 ? 60 : 5) * 1_000_000_000L) {
                int got = consumer.poll(Duration.ofMillis(100)).count();
                if (got > 0) {
                    records += got;
                    lastArrival = System.nanoTime();
                    firstArrival = firstArrival == 0 ? lastArrival : firstArrival;
                }
            }
            double cpu = cpuNanos(threadsOf);
            double seconds = (lastArrival - firstArrival) / 1e9;
            return new Drain(new Meter.Sample(records, seconds, new Histogram(3), List.of()),
                    cpu / Math.max(1, records));
        }
    }

    /** CPU time so far of the live threads whose name holds {@code name}. */
    private static double cpuNanos(String name) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double total = 0;
        for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
            if (info.getThreadName().contains(name)) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                total += Math.max(0, cpu);
            }
        }
        return total;
    }
}
