package dev.agentevents.bench.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.bench.BenchReport;
import dev.agentevents.bench.Meter;
import dev.agentevents.bench.Series;
import dev.agentevents.bench.pipeline.PipelineScenarios;
import dev.agentevents.bench.pipeline.PipelineUnderTest;
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

/**
 * The {@code fanout} scenario: one fanout node with N WebSocket clients (in a child JVM), events spread over the N
 * users, against a bare Vert.x server fed the same records from Kafka by a plain consumer ({@link BareWsServer}).
 * Measures frames/s at full speed, heap and resident memory per idle and per active connection (after GC), and, when
 * asked, latency with each side fed a fixed rate.
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

    /** {@code fixedRate} 0: no fixed-rate series. */
    public BenchReport run(List<Integer> connections, double fixedRate) throws Exception {
        BenchReport report = new BenchReport("fanout");
        PerConnection memory = new PerConnection(report);
        int users = connections.stream().mapToInt(Integer::intValue).max().orElse(1);
        // one node and one bare server for the whole scenario: starting one per round (topics, group, partitions)
        // cost a minute in all
        try (Side bare = bare(users); Side nodeJs = nodeJs(users); Side fanout = fanout(users, false)) {
            run(report, memory, bare, nodeJs, fanout, connections, fixedRate);
        }
        int deflateAt = connections.stream().filter(n -> n >= 10_000 && n < 15_000).findFirst().orElse(users);
        deflate(report, memory, deflateAt);
        report.note("All three sides are fed the same records (the same events, encoded once, occurredAt stamped at "
                + "send) by the same producer settings into their own copy of the ordered topic (same partitions), "
                + "and read them with the same fetch settings. The bare side is Vert.x and a plain consumer routing "
                + "each record by key to its user's sockets with a pre-rendered frame of the same size (no Avro, no "
                + "token check, no queues, resume or limits); the Node.js side does the same with kafkajs and ws in "
                + "one process; the node decodes each record to its frame. Clients run in a child JVM on the same 2 "
                + "cores (a process may hold 20,000 file descriptors); each socket belongs to its own user; latency "
                + "is from occurredAt to the client's parse, on the same host clock. The broker, the feeders, the "
                + "bare server and the node share one JVM.");
        return report;
    }

    private void run(BenchReport report, PerConnection memory, Side bare, Side nodeJs, Side fanout,
                     List<Integer> connections, double fixedRate) throws Exception {
        List<Side> sides = List.of(bare, nodeJs, fanout);
        for (int n : connections) {
            Map<Side, Series> full = new HashMap<>();
            Map<Side, Series> fixed = new HashMap<>();
            for (Side side : sides) {
                full.put(side, report.series(side.name() + ", " + n + " sockets, full speed"));
                if (fixedRate > 0) {
                    fixed.put(side, report.series(side.name() + ", " + n + " sockets, " + (int) fixedRate + "/s"));
                }
            }
            for (int round = 1; round <= settings.rounds(); round++) {
                for (Side side : sides) {
                    progress.printf("%,d sockets, round %d/%d: %s ...%n", n, round, settings.rounds(), side.name());
                    measure(side, n, round == 1, memory, full.get(side), fixed.get(side), fixedRate);
                }
            }
            progress.printf("  %,d sockets, frames/s: bare %s, Node.js %s, fanout %s%n", n,
                    BenchReport.fmt(full.get(bare).rate()), BenchReport.fmt(full.get(nodeJs).rate()),
                    BenchReport.fmt(full.get(fanout).rate()));
            if (fixedRate > 0) {
                progress.printf("  %,d sockets, p99 at %,.0f/s: bare %s ms, Node.js %s ms, fanout %s ms%n", n,
                        fixedRate, BenchReport.ms(fixed.get(bare).p(99)), BenchReport.ms(fixed.get(nodeJs).p(99)),
                        BenchReport.ms(fixed.get(fanout).p(99)));
            }
            double ratio = full.get(fanout).rate() / full.get(bare).rate();
            report.target("fanout frames/s ÷ bare Vert.x + consumer at " + n + " sockets", ratio, "≥ 0.7",
                    ratio >= 0.7);
            double againstNode = full.get(fanout).rate() / full.get(nodeJs).rate();
            report.target("fanout frames/s ÷ Node.js (kafkajs + ws) at " + n + " sockets", againstNode, "≥ 2",
                    againstNode >= 2);
            double idle = memory.heap.path(fanout.name() + " idle, " + n).asDouble() / 1024;
            report.target("fanout heap per idle connection at " + n + " sockets (KB)", idle, "≤ 12", idle <= 12);
            for (Side side : sides) {
                memory.report(side.name(), n);
            }
        }
    }

    /**
     * One round of one side with {@code n} clients: full speed, then {@code fixedRate} if above 0 ({@code fixed} is
     * then its series); in the first round also its memory per connection, idle and after the run.
     */
    private void measure(Side side, int n, boolean withMemory, PerConnection memory, Series full, Series fixed,
                         double fixedRate) throws Exception {
        Memory before = side.memory();
        long t0 = System.nanoTime();
        LoadClient client = LoadClient.start(side.url(), n);
        long connected = System.nanoTime();
        try {
            if (withMemory) {
                memory.since(before, side.memory(), side.name() + " idle, " + n, client.connected);
            }
            side.feeder().feed(0, n);
            full.add(client.measure(settings.warmupSeconds(), settings.seconds()));
            if (fixedRate > 0) {
                side.feeder().feed(fixedRate, n);
                fixed.add(client.measure(settings.warmupSeconds(), settings.seconds()));
            }
            side.feeder().stopFeeding();
            if (withMemory) {
                memory.since(before, side.memory(), side.name() + " active, " + n, client.connected);
            }
        } finally {
            long measured = System.nanoTime();
            client.close();
            progress.printf("    connected in %.1f s, measured in %.1f s, closed in %.1f s%n", (connected - t0) / 1e9,
                    (measured - connected) / 1e9, (System.nanoTime() - measured) / 1e9);
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
        try (Side fanout = fanout(n, true)) {
            Memory before = fanout.memory();
            try (LoadClient client = LoadClient.start(fanout.url(), n, null, SECRET, true)) {
                if (client.deflated != client.connected) {
                    throw new IllegalStateException("deflate negotiated on " + client.deflated + " of "
                            + client.connected + " sockets");
                }
                memory.since(before, fanout.memory(), "fanout node, deflate negotiated idle, " + n,
                        client.connected);
                for (int round = 1; round <= settings.rounds(); round++) {
                    fanout.feeder().feed(0, n);
                    full.add(client.measure(settings.warmupSeconds(), settings.seconds()));
                    fanout.feeder().stopFeeding();
                }
                memory.since(before, fanout.memory(), "fanout node, deflate negotiated active, " + n,
                        client.connected);
            }
        }
        Series plain = report.series("fanout node, " + n + " sockets, full speed");
        double ratio = full.rate() / plain.rate();
        progress.printf("  %,d sockets: deflate %s frames/s, plain %s frames/s (%.2f)%n", n,
                BenchReport.fmt(full.rate()), BenchReport.fmt(plain.rate()), ratio);
        report.extra().put("deflateFramesPerSecondRatio", ratio);
        report.target("fanout frames/s, deflate negotiated ÷ off, at " + n + " sockets", ratio, "(reported)", true);
        memory.report("fanout node, deflate negotiated", n);
    }

    /** Memory per connection, in the report: the heap (the JVM's, or V8's for Node.js) and the resident set. */
    private static final class PerConnection {
        final BenchReport report;
        final ObjectNode heap;
        final ObjectNode resident;

        PerConnection(BenchReport report) {
            this.report = report;
            heap = report.extra().putObject("heapBytesPerConnection");
            resident = report.extra().putObject("residentBytesPerConnection");
        }

        /** {@code arm}'s figures at {@code n} connections, idle and active, as reported rows (KB). */
        void report(String arm, int n) {
            for (String state : List.of("idle", "active")) {
                String key = arm + " " + state + ", " + n;
                if (heap.has(key)) {
                    report.target(arm + ": heap per " + state + " connection at " + n + " sockets (KB)",
                            heap.path(key).asDouble() / 1024, "(reported)", true);
                    report.target(arm + ": resident memory per " + state + " connection at " + n + " sockets (KB)",
                            resident.path(key).asDouble() / 1024, "(reported)", true);
                }
            }
        }

        /** What grew from {@code before} to {@code now}, divided by {@code connections}, under {@code key}. */
        void since(Memory before, Memory now, String key, int connections) {
            heap.put(key, (now.heap() - before.heap()) / (double) connections);
            resident.put(key, (now.resident() - before.resident()) / (double) connections);
        }
    }

    /** A process's used heap and resident set (Linux), after one GC. */
    private record Memory(long heap, long resident) {
        /** This JVM's. */
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

        /**
         * Kills the clients' JVM: the kernel closes every socket at once, where closing 19,000 of them one by one took
         * about 3 s per round (the servers see the peers go, as they do when a browser's machine dies).
         */
        @Override
        public void close() throws Exception {
            process.destroyForcibly();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("the load client did not exit");
            }
        }
    }

    /** One side of the benchmark: a server, the feeder of its ordered topic, and how to read the memory it uses. */
    private record Side(String name, String url, OrderedFeeder feeder, MemoryProbe probe, AutoCloseable server)
            implements AutoCloseable {

        Memory memory() throws Exception {
            return probe.now();
        }

        @Override
        public void close() throws Exception {
            feeder.close();
            server.close();
        }
    }

    /** The memory a side's server uses now. */
    private interface MemoryProbe {
        Memory now() throws Exception;
    }

    private String prefix(String kind) {
        return "bench-" + kind + "-" + (++prefixes) + "-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    }

    /** The bare server on its own copy of the ordered topic, and its feeder. */
    private Side bare(int users) throws Exception {
        Topics topics = stack.topicsWithPrefix(prefix("bare"), settings.partitions());
        BareWsServer server = new BareWsServer(stack.bootstrapServers(), topics.ordered(), new FrameTemplate(template));
        return new Side("bare Vert.x + consumer", server.url(), new OrderedFeeder(stack, topics.ordered(), template,
                users, server::delivered), Memory::now, server);
    }

    /** Node.js with kafkajs and ws ({@link NodeFanoutServer}) on its own copy of the ordered topic, and its feeder. */
    private Side nodeJs(int users) throws Exception {
        String prefix = prefix("nodejs");
        Topics topics = stack.topicsWithPrefix(prefix, settings.partitions());
        NodeFanoutServer server = new NodeFanoutServer(stack.bootstrapServers(), topics.ordered(), prefix + "fanout",
                new FrameTemplate(template), progress);
        return new Side("Node.js (kafkajs + ws)", server.url(), new OrderedFeeder(stack, topics.ordered(), template,
                users, server::delivered), () -> {
                    long[] memory = server.memory();
                    return new Memory(memory[0], memory[1]);
                }, server);
    }

    /** One fanout node on fresh topics and its feeder, for up to {@code users}; {@code compression}: deflate on. */
    private Side fanout(int users, boolean compression) throws Exception {
        String prefix = prefix("fo");
        Topics topics = stack.topicsWithPrefix(prefix, settings.partitions());
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
        FanoutNode node = FanoutNode.start(FanoutConfig.fromEnv(env));
        node.awaitPartitions(settings.partitions(), Duration.ofSeconds(60));
        Counter delivered = node.meterRegistry().find("fanout.frames.delivered").counter();
        return new Side("fanout node", node.webSocketUrl(), new OrderedFeeder(stack, topics.ordered(), template,
                users, () -> (long) delivered.count()), Memory::now, node);
    }
}
