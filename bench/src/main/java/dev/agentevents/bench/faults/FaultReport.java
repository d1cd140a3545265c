package dev.agentevents.bench.faults;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.producer.Published;
import dev.agentevents.schemas.EventJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The fault audit's report: the checks and a row per fault, as Markdown and JSON; the list of lost events. */
public final class FaultReport {

    private FaultReport() {
    }

    /** What every client saw, compared with what the agents had acknowledged. */
    record Checks(long acknowledged, long notAcknowledged, long runs, long lost, long duplicates,
                  long orderViolations, long otherUsers, long unfinished, long gaps, long repeats, long reconnects) {
    }

    /**
     * One fault and what it cost: {@code delays}, how late users' events were shown (the silence the system caused);
     * {@code waits}, how long users waited between deliveries (agents' own pauses included).
     */
    record Row(FaultAudit.Fault fault, FaultAudit.Impact impact, FaultAudit.UserWaits waits,
               FaultAudit.UserWaits delays) {
    }

    /** The numbers, the table, and whether every check passed. */
    public record Result(ObjectNode json, String markdown, boolean passed) {
        void write(Path dir, String name) throws Exception {
            Files.createDirectories(dir);
            String stamp = stamp();
            Files.writeString(dir.resolve(name + "-" + stamp + ".json"),
                    EventJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));
            Files.writeString(dir.resolve(name + "-" + stamp + ".md"), markdown);
        }
    }

    static Result of(FaultRun.Settings settings, double seconds, Checks checks, List<Row> rows) {
        ObjectNode json = EventJson.MAPPER.createObjectNode();
        json.put("users", settings.users()).put("rateEventsPerSecond", settings.rate()).put("seconds", seconds)
                .put("acknowledged", checks.acknowledged()).put("notAcknowledged", checks.notAcknowledged())
                .put("runs", checks.runs()).put("lost", checks.lost())
                .put("duplicatesAfterDedupe", checks.duplicates()).put("orderViolations", checks.orderViolations())
                .put("shownToOtherUsers", checks.otherUsers()).put("runsWithoutTerminalEvent", checks.unfinished())
                .put("gapMarkers", checks.gaps()).put("reconnects", checks.reconnects())
                .put("repeatsDroppedByClients", checks.repeats());
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "%d users, %.0f events/s, %.0f s, %,d events acknowledged in %,d runs "
                + "(%,d sends not acknowledged)%n%n", settings.users(), settings.rate(), seconds,
                checks.acknowledged(), checks.runs(), checks.notAcknowledged()));
        md.append("| check | result |\n|---|---|\n");
        check(md, "lost events (acknowledged, never shown)", checks.lost());
        check(md, "events shown twice after the client's dedupe", checks.duplicates());
        check(md, "per-run order violations (event after a later one of its run, or after its end)",
                checks.orderViolations());
        check(md, "events shown to a user they do not belong to", checks.otherUsers());
        check(md, "runs left without a terminal event", checks.unfinished());
        check(md, "gap markers seen", checks.gaps());
        check(md, "events the servers sent again, dropped by the clients' seq check", checks.repeats());
        check(md, "client reconnects", checks.reconnects());
        StringBuilder table = new StringBuilder("| fault | at | down for | no delivery to anyone for | "
                + "latest event of one user (agent's publish → shown) | users' latest events p50 / p95 / p99 | "
                + "longest wait of one user between deliveries | users' longest waits p50 / p95 / p99 | "
                + "delivery rate back to ≥ ½ after |\n|---|---|---|---|---|---|---|---|---|\n");
        ArrayNode faultList = json.putArray("faults");
        int registryStalls = 0;
        for (Row row : rows) {
            FaultAudit.Fault fault = row.fault();
            FaultAudit.Impact impact = row.impact();
            FaultAudit.UserWaits waits = row.waits();
            FaultAudit.UserWaits delays = row.delays();
            double down = (fault.restartedAtMs() - fault.atMs()) / 1000.0;
            boolean flowingBefore = impact.deliveredBefore() > 0;
            faultList.addObject().put("kind", fault.kind()).put("what", fault.what())
                    .put("atSeconds", fault.atMs() / 1000.0)
                    .put("downSeconds", down).put("longestGlobalStallSeconds", impact.longestStallSeconds())
                    .put("longestUserWaitSeconds", waits.maxSeconds()).put("userWaitP50Seconds", waits.p50Seconds())
                    .put("userWaitP95Seconds", waits.p95Seconds()).put("userWaitP99Seconds", waits.p99Seconds())
                    .put("usersWaiting", waits.users()).put("longestWaitEndedAtSeconds", waits.longestEndedAtSeconds())
                    .put("latestEventOfOneUserSeconds", delays.maxSeconds())
                    .put("eventDelayP50Seconds", delays.p50Seconds()).put("eventDelayP95Seconds", delays.p95Seconds())
                    .put("eventDelayP99Seconds", delays.p99Seconds()).put("usersShownEvents", delays.users())
                    .put("latestEventShownAtSeconds", delays.longestEndedAtSeconds())
                    .put("recoverySeconds", fault.isBaseline() ? null : impact.recoverySeconds())
                    .put("deliveriesFlowingBefore", flowingBefore).put("routersBehindMsBefore", fault.routersBehindMs());
            if (FaultAudit.registryStoppedDeliveries(fault, impact.longestStallSeconds(), flowingBefore,
                    settings.outageSeconds())) {
                registryStalls++;
            }
            String note = !flowingBefore ? " (deliveries already stopped)" : !fault.routersCaughtUp()
                    ? String.format(Locale.ROOT, " (routers still %.0f s behind)", fault.routersBehindMs() / 1000.0)
                    : "";
            double recovery = impact.recoverySeconds();
            table.append(String.format(Locale.ROOT, "| %s%s | %.0f s | %.1f s | %.1f s | %.1f s | %.1f / %.1f / %.1f s "
                            + "| %.1f s | %.1f / %.1f / %.1f s | %s |%n", fault.what(), note, fault.atMs() / 1000.0,
                    down, impact.longestStallSeconds(), delays.maxSeconds(), delays.p50Seconds(), delays.p95Seconds(),
                    delays.p99Seconds(), waits.maxSeconds(), waits.p50Seconds(), waits.p95Seconds(), waits.p99Seconds(),
                    fault.isBaseline() ? "—" : recovery < 0 ? "not within the window"
                            : recovery == 0 ? "never fell below" : String.format(Locale.ROOT, "%.1f s", recovery)));
        }
        // with cached schemas, a registry outage must not stop deliveries (a stall of half the outage would)
        check(md, "registry outages that stopped deliveries", registryStalls);
        md.append('\n').append(table);
        json.put("registryOutagesThatStoppedDeliveries", registryStalls);
        boolean passed = checks.lost() == 0 && checks.duplicates() == 0 && checks.orderViolations() == 0
                && checks.otherUsers() == 0 && checks.unfinished() == 0 && registryStalls == 0;
        json.put("passed", passed);
        return new Result(json, md.toString(), passed);
    }

    private static void check(StringBuilder md, String name, long value) {
        md.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    /**
     * For a failed audit, one line per lost event (what was acknowledged, where it was written, what its user's
     * client last saw of the run and how often it connected): the starting point of the investigation. Returns the
     * file, or null when nothing was lost.
     */
    static Path writeLost(Path out, String name, Map<String, Published> acknowledged, AuditClients clients)
            throws Exception {
        List<String> lines = new ArrayList<>();
        for (Published event : acknowledged.values()) {
            AuditClients.Client client = clients.clients.get(event.userId());
            if (client != null && client.received.containsKey(event.eventId())) {
                continue;
            }
            ObjectNode line = EventJson.MAPPER.createObjectNode().put("eventId", event.eventId())
                    .put("userId", event.userId()).put("runId", event.runId()).put("seq", event.seq())
                    .put("type", event.type()).put("input", event.partition() + ":" + event.offset());
            if (client != null) {
                line.put("clientConnections", client.connections.get()).put("clientSawEnd",
                        client.sawEnd(event.runId()));
            }
            lines.add(EventJson.MAPPER.writeValueAsString(line));
        }
        if (lines.isEmpty()) {
            return null;
        }
        Path file = out.resolve(name + "-lost-" + stamp() + ".jsonl");
        Files.write(file, lines);
        return file;
    }

    private static String stamp() {
        return DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
    }
}
