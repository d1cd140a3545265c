package dev.agentevents.bench.fanout;

import dev.agentevents.bench.Pacer;

import dev.agentevents.bench.Series;

import dev.agentevents.bench.BenchReport;
import dev.agentevents.bench.Meter;
import dev.agentevents.bench.pipeline.PipelineScenarios;
import dev.agentevents.bench.pipeline.PipelineUnderTest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Thinking;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.fanout.FanoutNode;
import dev.agentevents.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The {@code fanout} scenario: one fanout node with N WebSocket clients (in a child JVM), events spread over the N
 * users, against a bare Vert.x server pushing the same frames with no Kafka behind it. Measures frames/s at full
 * speed, latency at a fixed rate, and heap per idle and per active connection (after GC).
 */
public final class FanoutScenario {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = PipelineUnderTest.SECRET;

    private final EmbeddedStack stack;
    private final PipelineScenarios.Settings settings;
    private final PrintStream progress;
    private final AgentEvent template;
    private int prefixes;

    public FanoutScenario(EmbeddedStack stack, PipelineScenarios.Settings settings, PrintStream progress) {
        this.stack = stack;
        this.settings = settings;
        this.progress = progress;
        this.template = AgentEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType("agent_thinking")
                .setUserId("load-0").setThreadId("thread-load").setRunId(UUID.randomUUID().toString()).setSeq(1)
                .setOccurredAt(Instant.now()).setAgent(AgentInfo.newBuilder().setId("research-agent")
                        .setName("Research assistant").setVersion("2.4.1").setModel("gpt-5.1-mini").build())
                .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736").setSpanId("00f067aa0ba902b7")
                .setThinking(new Thinking("Two sources disagree on the date; checking the primary one before I "
                        + "answer, then the pricing table."))
                .build();
    }

    public BenchReport run(List<Integer> connections, double fixedRate) throws Exception {
        BenchReport report = new BenchReport("fanout");
        PerConnection memory = new PerConnection(report);
        // one node for the whole scenario: starting one per round (topics, group, partitions) cost a minute in all
        try (FanoutUnderTest fanout = new FanoutUnderTest(connections.stream().mapToInt(Integer::intValue).max()
                .orElse(1), false)) {
            run(report, memory, fanout, connections, fixedRate);
        }
        int deflateAt = connections.stream().filter(n -> n >= 10_000 && n < 15_000).findFirst()
                .orElse(connections.stream().mapToInt(Integer::intValue).max().orElse(1));
        deflate(report, memory, deflateAt);
        report.note("Clients run in a child JVM on the same 2 cores (a process may hold 20,000 file descriptors); each "
                + "socket belongs to its own user; latency is from the event's occurredAt (stamped when the feeder or "
                + "the bare server made the frame) to the client's parse, on the same host clock. One fanout node "
                + "serves every round.");
        return report;
    }

    private void run(BenchReport report, PerConnection memory, FanoutUnderTest fanout, List<Integer> connections,
                     double fixedRate) throws Exception {
        ObjectNode heap = memory.heap;
        for (int n : connections) {
            Series bareFull = report.series("bare Vert.x, " + n + " sockets, full speed");
            Series fanoutFull = report.series("fanout node, " + n + " sockets, full speed");
            Series bareFixed = report.series("bare Vert.x, " + n + " sockets, " + (int) fixedRate + "/s");
            Series fanoutFixed = report.series("fanout node, " + n + " sockets, " + (int) fixedRate + "/s");
            for (int round = 1; round <= settings.rounds(); round++) {
                progress.printf("%,d sockets, round %d/%d: bare Vert.x ...%n", n, round, settings.rounds());
                try (BareWsServer bare = new BareWsServer(new FrameTemplate(template))) {
                    long before = usedHeapAfterGc();
                    try (LoadClient client = LoadClient.start(bare.url(), n)) {
                        if (round == 1) {
                            heap.put("bare idle, " + n, (usedHeapAfterGc() - before) / (double) client.connected);
                        }
                        bare.push(0);
                        bareFull.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                        bare.push(fixedRate);
                        bareFixed.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                        bare.stopPushing();
                        if (round == 1) {
                            heap.put("bare active, " + n, (usedHeapAfterGc() - before) / (double) client.connected);
                        }
                    }
                }
                progress.printf("%,d sockets, round %d/%d: fanout node ...%n", n, round, settings.rounds());
                Memory before = Memory.now();
                try (LoadClient client = LoadClient.start(fanout.node.webSocketUrl(), n)) {
                    if (round == 1) {
                        memory.since(before, "fanout idle, " + n, client.connected);
                    }
                    fanout.feed(0, n);
                    fanoutFull.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                    fanout.feed(fixedRate, n);
                    fanoutFixed.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                    fanout.stopFeeding();
                    if (round == 1) {
                        memory.since(before, "fanout active, " + n, client.connected);
                    }
                }
            }
            progress.printf("  %,d sockets: bare %s frames/s, fanout %s frames/s; p99 at %,.0f/s bare %s ms, fanout "
                    + "%s ms%n", n, BenchReport.fmt(bareFull.rate()), BenchReport.fmt(fanoutFull.rate()), fixedRate,
                    BenchReport.ms(bareFixed.p(99)), BenchReport.ms(fanoutFixed.p(99)));
            if (n >= 10_000 && n < 15_000) {
                double ratio = fanoutFull.rate() / bareFull.rate();
                report.target("fanout frames/s ÷ bare Vert.x at " + n + " sockets", ratio, "≥ 0.7", ratio >= 0.7);
                double idle = heap.path("fanout idle, " + n).asDouble() / 1024;
                report.target("fanout heap per idle connection at " + n + " sockets (KB)", idle, "≤ 16", idle <= 16);
            }
        }
    }

    /**
     * The node with {@code FANOUT_WS_COMPRESSION=on} and {@code n} clients that offer permessage-deflate as Chromium
     * does, against the same node with compression off (measured above at the same count): frames/s at full speed,
     * heap and resident memory per connection, idle and after the full-speed run. The resident figure counts what
     * the heap does not: each compressing connection's zlib state lives in native memory.
     */
    private void deflate(BenchReport report, PerConnection memory, int n) throws Exception {
        Series full = report.series("fanout node, deflate negotiated, " + n + " sockets, full speed");
        progress.printf("%,d sockets: fanout node with permessage-deflate negotiated ...%n", n);
        try (FanoutUnderTest fanout = new FanoutUnderTest(n, true)) {
            Memory before = Memory.now();
            try (LoadClient client = LoadClient.start(fanout.node.webSocketUrl(), n, null, SECRET, true)) {
                if (client.deflated != client.connected) {
                    throw new IllegalStateException("deflate negotiated on " + client.deflated + " of "
                            + client.connected + " sockets");
                }
                memory.since(before, "fanout deflate idle, " + n, client.connected);
                for (int round = 1; round <= settings.rounds(); round++) {
                    fanout.feed(0, n);
                    full.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                    fanout.stopFeeding();
                }
                memory.since(before, "fanout deflate active, " + n, client.connected);
            }
        }
        Series plain = report.series("fanout node, " + n + " sockets, full speed");
        double ratio = full.rate() / plain.rate();
        progress.printf("  %,d sockets: deflate %s frames/s, plain %s frames/s (%.2f)%n", n,
                BenchReport.fmt(full.rate()), BenchReport.fmt(plain.rate()), ratio);
        report.extra().put("deflateFramesPerSecondRatio", ratio);
        report.target("fanout frames/s, deflate negotiated ÷ off, at " + n + " sockets", ratio, "(reported)", true);
        for (String state : List.of("idle", "active")) {
            for (String arm : List.of("fanout ", "fanout deflate ")) {
                String key = arm + state + ", " + n;
                if (memory.heap.has(key)) {
                    report.target(arm.trim() + " heap per " + state + " connection at " + n + " sockets (KB)",
                            memory.heap.path(key).asDouble() / 1024, "(reported)", true);
                    report.target(arm.trim() + " resident memory per " + state + " connection at " + n
                            + " sockets (KB)", memory.resident.path(key).asDouble() / 1024, "(reported)", true);
                }
            }
        }
    }

    /** Memory per connection, in the report: the heap, and for the node also this process's resident set. */
    private static final class PerConnection {
        final ObjectNode heap;
        final ObjectNode resident;

        PerConnection(BenchReport report) {
            heap = report.extra().putObject("heapBytesPerConnection");
            resident = report.extra().putObject("residentBytesPerConnection");
        }

        /** What grew since {@code before}, divided by {@code connections}, under {@code key}. */
        void since(Memory before, String key, int connections) throws Exception {
            Memory now = Memory.now();
            heap.put(key, (now.heap() - before.heap()) / (double) connections);
            resident.put(key, (now.resident() - before.resident()) / (double) connections);
        }
    }

    /** This process's used heap and resident set (Linux), after one GC. */
    private record Memory(long heap, long resident) {
        static Memory now() throws Exception {
            long heap = usedHeapAfterGc();
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return new Memory(heap, Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
            throw new IllegalStateException("no VmRSS in /proc/self/status");
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The child JVM with the clients. */
    public static final class LoadClient implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final Writer in;
        final int connected;
        /** Sockets on which the server agreed permessage-deflate. */
        final int deflated;

        private LoadClient(Process process, BufferedReader out, Writer in, int connected, int deflated) {
            this.process = process;
            this.out = out;
            this.in = in;
            this.connected = connected;
            this.deflated = deflated;
        }

        public static LoadClient start(String url, int n) throws Exception {
            return start(url, n, null, SECRET, false);
        }

        /**
         * Clients for {@code n} users: {@code load-0..n-1}, or the lines of {@code usersFile}; with {@code deflate},
         * each offers permessage-deflate as Chromium does.
         */
        public static LoadClient start(String url, int n, Path usersFile, String secret, boolean deflate)
                throws Exception {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Xmx2g", "-XX:+UseParallelGC", "-Dload.deflate=" + deflate, "-cp",
                    System.getProperty("java.class.path"), FanoutLoadClient.class.getName(), url, secret,
                    Integer.toString(n)));
            if (usersFile != null) {
                command.add(usersFile.toString());
            }
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("CONNECTED ")) {
                process.destroyForcibly();
                throw new IllegalStateException("load client did not connect: " + line);
            }
            String[] counts = line.substring(10).trim().split(" ");
            int connected = Integer.parseInt(counts[0]);
            if (connected < n) {
                process.destroyForcibly();
                throw new IllegalStateException("only " + connected + " of " + n + " sockets connected");
            }
            return new LoadClient(process, out, new OutputStreamWriter(process.getOutputStream(),
                    StandardCharsets.UTF_8), connected, Integer.parseInt(counts[1]));
        }

        public Meter.Sample measure(double warmup, double seconds) throws Exception {
            Thread.sleep((long) (warmup * 1000));
            in.write("MEASURE " + seconds + "\n");
            in.flush();
            JsonNode result = JSON.readTree(out.readLine());
            List<Double> perSecond = new ArrayList<>();
            result.path("perSecond").forEach(v -> perSecond.add(v.asDouble()));
            Histogram latency = Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(result.path("histogram").asText())), 0);
            return new Meter.Sample(result.path("frames").asLong(), result.path("seconds").asDouble(), latency,
                    perSecond);
        }

        @Override
        public void close() throws Exception {
            in.write("EXIT\n");
            in.flush();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** One fanout node on fresh topics, and a feeder writing its ordered topic (see {@link OrderedLoad}). */
    private final class FanoutUnderTest implements AutoCloseable {
        final FanoutNode node;
        private final Topics topics;
        private final KafkaProducer<byte[], byte[]> producer;
        private final OrderedLoad load;
        private final Counter delivered;
        private Thread feeder;

        /** A node and records for up to {@code users} users; {@code compression}: FANOUT_WS_COMPRESSION on. */
        FanoutUnderTest(int users, boolean compression) throws Exception {
            String prefix = "bench-fo-" + (++prefixes) + "-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
            topics = stack.topicsWithPrefix(prefix, settings.partitions());
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers());
            env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
            env.put("AGENT_EVENTS_TOPIC_PREFIX", prefix);
            env.put("FANOUT_HOST", "127.0.0.1");
            env.put("FANOUT_PORT", "0");
            env.put("FANOUT_GROUP_ID", prefix + "fanout");
            env.put("FANOUT_JWT_HS256_SECRET", SECRET);
            env.put("FANOUT_PRELOAD_EVENTS", "0");
            env.put("FANOUT_MAX_CONNECTIONS_PER_USER", "4");
            // all the load's sockets come from 127.0.0.1; the node-wide cap (default 20000) still applies
            env.put("FANOUT_MAX_CONNECTIONS_PER_ADDRESS", "20000");
            env.put("FANOUT_WS_COMPRESSION", compression ? "on" : "off");
            node = FanoutNode.start(FanoutConfig.fromEnv(env));
            node.awaitPartitions(settings.partitions(), Duration.ofSeconds(60));
            producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                    ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5,
                    ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(),
                    new ByteArraySerializer());
            load = OrderedLoad.viaRegistry(template, "load-", users, topics.ordered(), stack.registryUrl());
            delivered = node.meterRegistry().find("fanout.frames.delivered").counter();
        }

        /** Feeds {@code rate} records/s (0: as fast as the node delivers) spread over the first {@code users}. */
        void feed(double rate, int users) throws InterruptedException {
            stopFeeding();
            feeder = new Thread(() -> {
                Pacer pacer = new Pacer(rate);
                long sent = 0;
                double deliveredBefore = delivered.count();
                while (!Thread.currentThread().isInterrupted()) {
                    if (rate <= 0 && sent - (delivered.count() - deliveredBefore) > PipelineScenarios.MAX_IN_FLIGHT) {
                        java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                        continue;
                    }
                    pacer.await();
                    producer.send(load.record(sent, users));
                    sent++;
                }
            }, "fanout-feeder");
            feeder.start();
        }

        void stopFeeding() throws InterruptedException {
            if (feeder != null) {
                feeder.interrupt();
                feeder.join(5000);
                feeder = null;
            }
        }

        @Override
        public void close() throws Exception {
            stopFeeding();
            producer.close(Duration.ofSeconds(10));
            node.close();
        }
    }
}
