package dev.agentevents.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running one main class with this JVM's classpath, its environment and its own log file; it can be
 * stopped (SIGTERM), killed (SIGKILL) and started again with the same settings. Children still running when
 * this JVM exits are killed with it.
 *
 * <p>The environment variable {@value #OPTIONS_VARIABLE} adds options after the caller's, so they win (e.g.
 * {@code -XX:TieredStopAtLevel=4} undoes {@link #C1_ONLY}).
 */
public final class JavaProcess {

    /** Extra options for every child JVM, separated by spaces; they come last, so they win. */
    public static final String OPTIONS_VARIABLE = "CHILD_JVM_OPTIONS";

    /**
     * Compile with C1 only, for children that must start fast rather than run fast: a local cluster packs ten JVMs
     * onto two cores, and with the default tiered compilation their C2 compiler threads kept both cores busy for
     * minutes after a start (the fault smoke's routers fell 89 s behind 60 events/s; C1 only, 22–29 s; see
     * docs/operations.md).
     */
    public static final List<String> C1_ONLY = List.of("-XX:TieredStopAtLevel=1");

    private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();

    static {
        // shutdown hooks run in parallel, so this one cannot wait for an orderly close elsewhere: it asks every child
        // to stop (SIGTERM) and kills what is left after 15 s
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            CHILDREN.forEach(Process::destroy);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (Process child : CHILDREN) {
                try {
                    child.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    break;
                }
            }
            CHILDREN.forEach(Process::destroyForcibly);
        }, "java-process-reaper"));
    }

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path logFile;
    private Process process;

    /**
     * @param jvmOptions for example {@code -Xmx512m}
     * @param environment added to this JVM's environment
     */
    public JavaProcess(String name, String mainClass, List<String> args, List<String> jvmOptions,
                       Map<String, String> environment, Path logFile) {
        this.name = name;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        String extra = System.getenv(OPTIONS_VARIABLE);
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        this.command = List.copyOf(cmd);
        this.environment = Map.copyOf(environment);
        this.logFile = logFile;
    }

    public String name() {
        return name;
    }

    public Path logFile() {
        return logFile;
    }

    public synchronized JavaProcess start() {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        try {
            Files.createDirectories(logFile.getParent());
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            builder.environment().putAll(environment);
            process = builder.start();
            CHILDREN.add(process);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + name, e);
        }
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    public synchronized OptionalLong pid() {
        return isAlive() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
    }

    /** Exit code of a process that ended, or empty. */
    public synchronized OptionalLong exitCode() {
        return process != null && !process.isAlive() ? OptionalLong.of(process.exitValue()) : OptionalLong.empty();
    }

    /** SIGKILL: no shutdown hooks, no flush. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            await(process, 30);
            CHILDREN.remove(process);
        }
    }

    /** SIGTERM, then SIGKILL if it has not ended within {@code seconds}. */
    public synchronized void stop(int seconds) {
        if (process != null) {
            process.destroy();
            if (!await(process, seconds)) {
                process.destroyForcibly();
                await(process, 30);
            }
            CHILDREN.remove(process);
        }
    }

    private static boolean await(Process p, int seconds) {
        try {
            return p.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last {@code lines} lines of the log, for error messages. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }
}
