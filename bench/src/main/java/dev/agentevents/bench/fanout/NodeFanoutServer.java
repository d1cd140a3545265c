package dev.agentevents.bench.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fanout benchmark's Node.js arm, the stack a team would otherwise write: {@code node-fanout/server.js} (kafkajs
 * consuming, {@code ws} pushing the bare server's pre-rendered frames to each user's sockets) in a child process. Its
 * npm packages are installed with {@code npm ci} from the lock file on first use, into a directory under the system
 * temp directory named by the lock file's hash, so later runs start at once.
 */
final class NodeFanoutServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FILES = List.of("package.json", "package-lock.json", "server.js");

    private final Process process;
    private final Writer in;
    private final int port;
    private final AtomicLong delivered = new AtomicLong();
    private final BlockingQueue<JsonNode> answers = new ArrayBlockingQueue<>(4);
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    /** A server consuming {@code topic} at {@code bootstrap} in consumer group {@code group}. */
    NodeFanoutServer(String bootstrap, String topic, String group, FrameTemplate frames, PrintStream progress)
            throws Exception {
        Path dir = installed(progress);
        process = new ProcessBuilder("node", "--expose-gc", "server.js", bootstrap, topic, group, frames.beforeTime(),
                frames.afterTime()).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        String first = out.readLine();
        if (first == null || !first.startsWith("LISTENING ")) {
            process.destroyForcibly();
            throw new IllegalStateException("node-fanout/server.js did not start: " + first);
        }
        port = Integer.parseInt(first.substring(10).trim());
        Thread reader = new Thread(() -> read(out), "node-fanout-stdout");
        reader.setDaemon(true);
        reader.start();
        ready.get(60, TimeUnit.SECONDS);
    }

    private void read(BufferedReader out) {
        try {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("DELIVERED ")) {
                    delivered.set(Long.parseLong(line.substring(10).trim()));
                } else if (line.equals("READY")) {
                    ready.complete(null);
                } else if (line.startsWith("{")) {
                    answers.put(JSON.readTree(line));
                }
            }
        } catch (IOException e) {
            // the process ended
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ready.completeExceptionally(new IllegalStateException("node-fanout/server.js exited before it was ready"));
    }

    /** The packages of {@code node-fanout}, installed once per lock file. */
    private static Path installed(PrintStream progress) throws Exception {
        byte[] lock = resource("package-lock.json");
        String hash = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(lock), 0, 6);
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "agent-events-bench-node-fanout-" + hash);
        Files.createDirectories(dir);
        for (String file : FILES) {
            Files.write(dir.resolve(file), resource(file));
        }
        if (!Files.isDirectory(dir.resolve("node_modules").resolve("ws"))) {
            progress.printf("installing the Node.js arm's packages (kafkajs, kafkajs-lz4, ws) with npm ci into %s "
                    + "...%n", dir);
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
                npm.destroyForcibly();
                throw new IllegalStateException("npm ci in " + dir + " failed (exit " + (npm.isAlive() ? "none"
                        : npm.exitValue()) + "): the Node.js arm needs npm and the npm registry");
            }
        }
        return dir;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream stream = NodeFanoutServer.class.getResourceAsStream("/node-fanout/" + name)) {
            if (stream == null) {
                throw new IllegalStateException("node-fanout/" + name + " is not on the class path");
            }
            return stream.readAllBytes();
        }
    }

    String url() {
        return "ws://127.0.0.1:" + port + "/ws";
    }

    /** Frames written to sockets so far (as last reported, every 50 ms). */
    long delivered() {
        return delivered.get();
    }

    /** The process's V8 heap in use and resident set, after a GC. */
    long[] memory() throws Exception {
        in.write("MEMORY\n");
        in.flush();
        JsonNode answer = answers.poll(30, TimeUnit.SECONDS);
        if (answer == null) {
            throw new IllegalStateException("node-fanout/server.js did not answer MEMORY");
        }
        return new long[] {answer.path("heapUsed").asLong(), answer.path("rss").asLong()};
    }

    @Override
    public void close() throws Exception {
        try {
            in.write("EXIT\n");
            in.flush();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
