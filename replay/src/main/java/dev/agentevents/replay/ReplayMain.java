package dev.agentevents.replay;

import dev.agentevents.config.KafkaSettings;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.avro.generic.GenericRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code java -jar replay/target/agent-events-replay.jar}: replays any topic of the pipeline (or any topic in the
 * Confluent Avro format) over a time range, decoded with each record's writer schema, as JSON Lines or CSV; with
 * {@code --verify}, proves each run complete and unaltered by its hash chain; with {@code --report}, writes an HTML
 * audit report. Exits 1 when a run fails verification, 2 on bad input.
 */
@Command(name = "agent-events-replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Replays and audits agent-events topics over a time range.")
public final class ReplayMain implements Callable<Integer> {

    @Option(names = "--topic", description = "ordered (default), events, dlq, or any topic name")
    String topic = "ordered";

    @Option(names = "--from", description = "start: ISO-8601 instant, 'now', or a time ago such as -2h (default: the beginning)")
    String from;

    @Option(names = "--to", description = "end (exclusive), same forms (default: now)")
    String to;

    @Option(names = "--user", description = "only this user's records (reads only the user's partition)")
    String user;

    @Option(names = "--run", description = "only this run")
    String run;

    @Option(names = "--thread", description = "only this thread")
    String thread;

    @Option(names = "--type", split = ",", description = "only these event types (comma-separated; 'gap' for gap markers)")
    Set<String> types;

    @Option(names = "--format", description = "jsonl (default) or csv")
    String format = "jsonl";

    @Option(names = "--out", description = "write here instead of stdout")
    Path out;

    @Option(names = "--verify", description = "check every run's seqs and hash chain; exit 1 if one fails")
    boolean verify;

    @Option(names = "--report", description = "write a self-contained HTML audit report here (implies --verify)")
    Path report;

    @Option(names = "--bootstrap-servers", description = "Kafka (default: KAFKA_BOOTSTRAP_SERVERS)")
    String bootstrapServers;

    @Option(names = "--registry", description = "schema registry URL (default: SCHEMA_REGISTRY_URL)")
    String registryUrl;

    @Option(names = "--no-progress", description = "no progress bar on stderr")
    boolean noProgress;

    private final Map<String, String> environment;
    private final Clock clock;
    private final PrintStream stdout;
    private final PrintStream stderr;

    ReplayMain(Map<String, String> environment, Clock clock, PrintStream stdout, PrintStream stderr) {
        this.environment = environment;
        this.clock = clock;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> env = new HashMap<>(environment);
        if (bootstrapServers != null) {
            env.put(KafkaSettings.BOOTSTRAP_VARIABLE, bootstrapServers);
        }
        if (registryUrl != null) {
            env.put("SCHEMA_REGISTRY_URL", registryUrl);
        }
        ReplayConfig config;
        RecordOutput.Format outputFormat;
        Selection selection;
        try {
            config = ReplayConfig.fromEnv(env);
            if (config.registryUrl() == null) {
                throw new IllegalArgumentException("set --registry or SCHEMA_REGISTRY_URL: records are decoded with "
                        + "their writer schema, fetched from the registry");
            }
            outputFormat = switch (format.toLowerCase()) {
                case "jsonl", "json" -> RecordOutput.Format.JSONL;
                case "csv" -> RecordOutput.Format.CSV;
                default -> throw new IllegalArgumentException("--format '" + format + "' is not jsonl or csv");
            };
            selection = new Selection(from == null ? null : TimeBound.parse(from, clock),
                    to == null ? null : TimeBound.parse(to, clock), user, run, thread, types);
        } catch (IllegalArgumentException e) {
            stderr.println("agent-events-replay: " + e.getMessage());
            return 2;
        }
        String topicName = switch (topic) {
            case "ordered" -> config.topics().ordered();
            case "events" -> config.topics().events();
            case "dlq" -> config.topics().deadLetters();
            default -> topic;
        };
        boolean auditing = verify || report != null;
        RunAudit audit = new RunAudit();
        AvroDeserializer<GenericRecord> decoder = AvroDeserializer.generic(new SchemaRegistryClient(config.registryUrl()));
        Progress progress = new Progress(stderr, !noProgress);
        long[] counts = new long[4];
        try (TopicReader reader = new TopicReader(config.kafka().asClientConfig(), config.pollTimeout());
             Writer writer = out == null ? new BufferedWriter(new OutputStreamWriter(stdout, StandardCharsets.UTF_8))
                     : Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             RecordOutput output = new RecordOutput(writer, outputFormat)) {
            TopicReader.Plan plan = reader.plan(topicName, selection.from(), selection.to(), selection.user());
            progress.total(plan.total());
            stderr.printf("reading %s partitions %s: %,d records%s%n", topicName, plan.partitions(), plan.total(),
                    selection.user() == null ? "" : " (the partition of user " + selection.user() + ")");
            reader.read(plan, record -> {
                counts[0]++;
                Decoded decoded = Decoded.of(record, decoder);
                if (decoded.kind().equals("undecodable")) {
                    counts[2]++;
                }
                if (selection.matches(decoded)) {
                    counts[1]++;
                    output.write(decoded);
                    if (auditing) {
                        audit.accept(decoded);
                    }
                }
            }, () -> progress.update(counts[0], counts[1]));
        }
        progress.finish(counts[0], counts[1]);
        stderr.printf("%,d records read, %,d written, %,d undecodable (reported in the output) in %.1f s%n",
                counts[0], counts[1], counts[2], progress.elapsedSeconds());
        if (!auditing) {
            return 0;
        }
        printVerdicts(audit);
        if (report != null) {
            AuditReport.write(report, "agent-events audit: " + topicName, scope(topicName), audit, counts[0]);
            stderr.println("report written to " + report.toAbsolutePath());
        }
        return audit.allPassed() ? 0 : 1;
    }

    private String scope(String topicName) {
        return "topic " + topicName + (from == null ? "" : ", from " + from) + (to == null ? "" : ", to " + to)
                + (user == null ? "" : ", user " + user) + (run == null ? "" : ", run " + run)
                + (thread == null ? "" : ", thread " + thread);
    }

    private void printVerdicts(RunAudit audit) {
        List<RunAudit.Run> runs = audit.runs();
        stderr.printf("%-16s %-38s %7s %-24s %-24s %-18s %s%n", "user", "run", "events", "first", "last", "status",
                "verdict");
        for (RunAudit.Run r : runs) {
            stderr.printf("%-16s %-38s %7d %-24s %-24s %-18s %s%n", r.userId, r.runId, r.events,
                    r.firstMs == null ? "" : Instant.ofEpochMilli(r.firstMs),
                    r.lastMs == null ? "" : Instant.ofEpochMilli(r.lastMs), r.status(), r.verdict());
        }
        long failed = runs.stream().filter(r -> !r.passed()).count();
        stderr.printf("%d runs, %d verified, %d failed%n", runs.size(), runs.size() - failed, failed);
    }

    /** Runs the tool with {@code args}; returns the exit code. */
    static int run(String[] args, Map<String, String> env, Clock clock, PrintStream stdout, PrintStream stderr) {
        CommandLine command = new CommandLine(new ReplayMain(env, clock, stdout, stderr));
        command.setErr(new java.io.PrintWriter(stderr, true));
        command.setOut(new java.io.PrintWriter(stdout, true));
        return command.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), Clock.systemUTC(), System.out, System.err));
    }

}
