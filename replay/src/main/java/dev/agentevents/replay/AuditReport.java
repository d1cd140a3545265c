package dev.agentevents.replay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The self-contained HTML audit report of {@code --verify --report}: the verdict per run, then per run a timeline
 * (tool calls as bars as long as they took, other events as marks) and its steps. No scripts, no external files.
 */
final class AuditReport {

    private static final int DETAILED_RUNS = 200;

    private AuditReport() {
    }

    static void write(Path file, String title, String scope, RunAudit audit, long recordsRead) {
        StringBuilder html = new StringBuilder(64 * 1024);
        List<RunAudit.Run> runs = audit.runs();
        long failed = runs.stream().filter(r -> !r.passed()).count();
        html.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(escape(title)).append("</title><style>").append(CSS).append("</style></head><body>")
                .append("<h1>").append(escape(title)).append("</h1>")
                .append("<p class=\"muted\">").append(escape(scope)).append(" · generated ")
                .append(Instant.now()).append(" · ").append(recordsRead).append(" records read</p>")
                .append("<p class=\"summary ").append(failed == 0 ? "ok" : "bad").append("\" id=\"summary\">")
                .append(runs.size()).append(" runs · ").append(runs.size() - failed).append(" verified · ")
                .append(failed).append(" failed</p>")
                .append("<table id=\"runs\"><thead><tr><th>user</th><th>run</th><th>events</th><th>first</th>")
                .append("<th>last</th><th>status</th><th>verdict</th></tr></thead><tbody>");
        for (RunAudit.Run run : runs) {
            html.append("<tr class=\"").append(run.passed() ? "ok" : "bad").append("\"><td>")
                    .append(escape(run.userId)).append("</td><td><a href=\"#run-").append(anchor(run)).append("\">")
                    .append(escape(run.runId)).append("</a></td><td>").append(run.events).append("</td><td>")
                    .append(time(run.firstMs)).append("</td><td>").append(time(run.lastMs)).append("</td><td>")
                    .append(run.status()).append("</td><td>").append(escape(run.verdict())).append("</td></tr>");
        }
        html.append("</tbody></table>");
        int shown = 0;
        for (RunAudit.Run run : runs) {
            if (shown++ >= DETAILED_RUNS) {
                html.append("<p class=\"muted\">Timelines of the first ").append(DETAILED_RUNS)
                        .append(" runs only.</p>");
                break;
            }
            timeline(html, run);
        }
        html.append("</body></html>\n");
        try {
            Files.writeString(file, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + file + ": " + e.getMessage(), e);
        }
    }

    private static void timeline(StringBuilder html, RunAudit.Run run) {
        html.append("<section class=\"run\" id=\"run-").append(anchor(run)).append("\"><h2>")
                .append(escape(run.runId)).append(" <span class=\"muted\">· ").append(escape(run.userId))
                .append(" · ").append(run.status()).append("</span></h2><p class=\"").append(run.passed() ? "ok" : "bad")
                .append("\">").append(escape(run.verdict())).append("</p>");
        List<RunAudit.Step> steps = run.timeline;
        if (!steps.isEmpty()) {
            long start = steps.stream().mapToLong(RunAudit.Step::atMs).min().orElse(0);
            long end = Math.max(start + 1, steps.stream().mapToLong(RunAudit.Step::atMs).max().orElse(start + 1));
            double width = 900;
            double scale = (width - 20) / (double) (end - start);
            Map<String, RunAudit.Step> executing = new HashMap<>();
            int lanes = 0;
            StringBuilder bars = new StringBuilder();
            for (RunAudit.Step step : steps) {
                double x = 10 + (step.atMs() - start) * scale;
                if (step.type().equals("tool_executing")) {
                    executing.put(step.toolCallId(), step);
                } else if (step.type().equals("tool_completed") && executing.containsKey(step.toolCallId())) {
                    RunAudit.Step begin = executing.remove(step.toolCallId());
                    double x0 = 10 + (begin.atMs() - start) * scale;
                    double y = 34 + 16 * (lanes++ % 4);
                    bars.append("<rect class=\"tool").append(step.error() ? " error" : "").append("\" x=\"")
                            .append(fmt(x0)).append("\" y=\"").append(fmt(y)).append("\" width=\"")
                            .append(fmt(Math.max(2, x - x0))).append("\" height=\"12\"><title>")
                            .append(escape(begin.label())).append(" · ")
                            .append(step.durationMs() == null ? "?" : step.durationMs()).append(" ms")
                            .append("</title></rect>");
                } else {
                    bars.append("<circle class=\"mark ").append(step.type()).append("\" cx=\"").append(fmt(x))
                            .append("\" cy=\"18\" r=\"5\"><title>").append(step.seq()).append(" ")
                            .append(escape(step.type())).append(" · ").append(escape(step.label()))
                            .append("</title></circle>");
                }
            }
            html.append("<svg class=\"timeline\" viewBox=\"0 0 ").append(fmt(width)).append(" 100\" width=\"")
                    .append(fmt(width)).append("\" height=\"100\" role=\"img\"><line x1=\"10\" y1=\"18\" x2=\"")
                    .append(fmt(width - 10)).append("\" y2=\"18\" class=\"axis\"/>").append(bars)
                    .append("<text x=\"10\" y=\"96\">").append(time(start)).append("</text><text x=\"")
                    .append(fmt(width - 10)).append("\" y=\"96\" text-anchor=\"end\">+")
                    .append(Duration.ofMillis(end - start).toMillis()).append(" ms</text></svg>");
            html.append("<table class=\"steps\"><thead><tr><th>seq</th><th>+ms</th><th>type</th><th>detail</th></tr>")
                    .append("</thead><tbody>");
            for (RunAudit.Step step : steps) {
                html.append("<tr").append(step.error() ? " class=\"bad\"" : "").append("><td>").append(step.seq())
                        .append("</td><td>").append(step.atMs() - start).append("</td><td>").append(escape(step.type()))
                        .append("</td><td>").append(escape(step.label()))
                        .append(step.durationMs() == null ? "" : " · " + step.durationMs() + " ms")
                        .append("</td></tr>");
            }
            html.append("</tbody></table>");
            if (run.timelineTruncated) {
                html.append("<p class=\"muted\">Only the first ").append(RunAudit.TIMELINE_LIMIT)
                        .append(" steps are shown.</p>");
            }
        }
        html.append("</section>");
    }

    private static String anchor(RunAudit.Run run) {
        return Integer.toHexString((run.userId + "/" + run.runId).hashCode());
    }

    private static String time(Long ms) {
        return ms == null ? "" : Instant.ofEpochMilli(ms).toString();
    }

    private static String fmt(double value) {
        return String.format(java.util.Locale.ROOT, "%.1f", value);
    }

    static String escape(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static final String CSS = "body{font-family:system-ui,sans-serif;margin:32px;color:#1d2433}"
            + ".muted{color:#6b7385}h1{margin-bottom:4px}table{border-collapse:collapse;margin:12px 0}"
            + "th,td{padding:5px 10px;border-bottom:1px solid #e4e7ef;text-align:left;font-size:13px}"
            + "tr.bad td{background:#fdecea}.summary{font-weight:600;font-size:16px}.ok{color:#0f7a45}"
            + ".bad{color:#b3261e}section.run{margin-top:28px;border-top:1px solid #e4e7ef;padding-top:8px}"
            + "h2{font-size:16px}svg.timeline{background:#fafbff;border:1px solid #e4e7ef;border-radius:8px}"
            + ".axis{stroke:#c3c7d1}.mark{fill:#4f46e5}.mark.agent_completed{fill:#0f9d58}"
            + ".mark.agent_failed,.mark.gap{fill:#d93025}.tool{fill:#8b85f0}.tool.error{fill:#d93025}"
            + "svg text{font-size:11px;fill:#6b7385}";
}
