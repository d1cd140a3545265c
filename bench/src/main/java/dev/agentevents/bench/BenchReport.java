package dev.agentevents.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.EventJson;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/**
 * One scenario's results: the JSON file, a Markdown table, and a self-contained HTML page with two charts (latency
 * percentiles, throughput over time), in {@code bench-results/<scenario>-<time>.*}.
 */
public final class BenchReport {

    public record Target(String what, double value, String goal, boolean met) {
    }

    private final String scenario;
    private final Instant started = Instant.now();
    private final List<Series> series = new ArrayList<>();
    private final List<Target> targets = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final ObjectNode extra = EventJson.MAPPER.createObjectNode();

    public BenchReport(String scenario) {
        this.scenario = scenario;
    }

    public Series series(String name) {
        for (Series s : series) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        Series created = new Series(name);
        series.add(created);
        return created;
    }

    public void target(String what, double value, String goal, boolean met) {
        targets.add(new Target(what, value, goal, met));
    }

    public void note(String text) {
        notes.add(text);
    }

    public ObjectNode extra() {
        return extra;
    }

    public List<Series> allSeries() {
        return series;
    }

    /** Writes the three files into {@code dir}; returns the Markdown. */
    public String write(Path dir) throws IOException {
        Files.createDirectories(dir);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
        String base = scenario + "-" + stamp;
        ObjectNode json = EventJson.MAPPER.createObjectNode();
        json.put("scenario", scenario).put("startedAt", started.toString()).put("finishedAt", Instant.now().toString());
        ObjectNode machine = json.putObject("machine");
        machine.put("cores", Runtime.getRuntime().availableProcessors())
                .put("maxHeapMb", Runtime.getRuntime().maxMemory() / 1024 / 1024)
                .put("java", System.getProperty("java.version"))
                .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"))
                .put("jvmArgs", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        ArrayNode list = json.putArray("series");
        series.forEach(s -> list.add(s.toJson()));
        ArrayNode goals = json.putArray("targets");
        targets.forEach(t -> goals.addObject().put("what", t.what()).put("value", t.value()).put("goal", t.goal())
                .put("met", t.met()));
        ArrayNode noteList = json.putArray("notes");
        notes.forEach(noteList::add);
        json.set("details", extra);
        Files.writeString(dir.resolve(base + ".json"), EventJson.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(json));
        String markdown = markdown();
        Files.writeString(dir.resolve(base + ".md"), markdown);
        Files.writeString(dir.resolve(base + ".html"), html(markdown));
        Files.writeString(dir.resolve(base + "-latency.svg"), standalone(percentilePlot()));
        return markdown;
    }

    /** An inline plot as an SVG file of its own (for the README and anything else that shows images). */
    public static String standalone(String svg) {
        return svg.replaceFirst("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" ")
                .replaceFirst(">", "><style>text{font-size:11px;fill:#4a5162}.legend text{font-size:12px}</style>"
                        + "<rect width=\"100%\" height=\"100%\" fill=\"#fafbff\"/>");
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("### ").append(scenario).append(" (").append(started).append(", ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores)\n\n");
        md.append("| series | rounds | events/s median (min–max) | p50 ms | p99 ms (rounds' min–max) | p99.9 ms "
                + "| max ms |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        for (Series s : series) {
            md.append("| ").append(s.name).append(" | ").append(s.rounds.size()).append(" | ")
                    .append(fmt(s.rate())).append(" (").append(fmt(s.min(Meter.Sample::perSecondRate))).append("–")
                    .append(fmt(s.max(Meter.Sample::perSecondRate))).append(") | ").append(ms(s.p(50))).append(" | ")
                    .append(ms(s.p(99))).append(spread(s, r -> r.millis(99))).append(" | ").append(ms(s.p(99.9)))
                    .append(" | ").append(ms(s.max(Meter.Sample::maxMillis))).append(" |\n");
        }
        if (!targets.isEmpty()) {
            md.append("\n| target | measured | goal | met |\n|---|---|---|---|\n");
            for (Target t : targets) {
                md.append("| ").append(t.what()).append(" | ").append(fmt2(t.value())).append(" | ").append(t.goal())
                        .append(" | ").append(t.goal().startsWith("(") ? "—" : t.met() ? "yes" : "**no**").append(" |\n");
            }
        }
        if (!notes.isEmpty()) {
            md.append('\n');
            notes.forEach(n -> md.append("- ").append(n).append('\n'));
        }
        return md.toString();
    }

    private String html(String markdown) {
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>agent-events bench: ").append(scenario)
                .append("</title><style>body{font-family:system-ui,sans-serif;margin:28px;color:#1d2433}")
                .append("svg{background:#fafbff;border:1px solid #e4e7ef;border-radius:8px;margin:8px 0}")
                .append("text{font-size:11px;fill:#4a5162}.legend text{font-size:12px}pre{background:#f3f4f8;")
                .append("padding:12px;border-radius:8px;white-space:pre-wrap}</style></head><body><h1>")
                .append(scenario).append("</h1><h2>Latency distribution (creation → arrival)</h2>")
                .append(percentilePlot()).append("<h2>Throughput over time (median round)</h2>")
                .append(timelinePlot()).append("<h2>Table</h2><pre>").append(escape(markdown))
                .append("</pre></body></html>\n");
        return html.toString();
    }

    private static final String[] COLORS = {"#4f46e5", "#0f9d58", "#d93025", "#b7791f", "#0891b2", "#9333ea",
        "#64748b", "#db2777", "#65a30d", "#ea580c"};

    /** Latency (ms, log scale) against percentile on the usual 1/(1-p) axis: 50, 90, 99, 99.9, 99.99. */
    private String percentilePlot() {
        int w = 900;
        int plot = 340;
        double maxMs = 1;
        for (Series s : series) {
            Histogram hist = s.merged();
            if (hist.getTotalCount() > 0) {
                maxMs = Math.max(maxMs, hist.getMaxValue() / 1000.0);
            }
        }
        double yMax = Math.log10(maxMs * 1.2);
        double yMin = -1;
        double xMax = 5;
        StringBuilder svg = new StringBuilder(open(w, plot));
        for (double x : new double[] {0.30103, 1, 2, 3, 4, 5}) {
            double px = 60 + x / xMax * (w - 80);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e7ef\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px, px, plot - 40, px, plot - 25,
                    x == 0.30103 ? "p50" : "p" + pctLabel(x)));
        }
        for (double y = Math.ceil(yMin); y <= yMax; y++) {
            double py = yPos(y, yMin, yMax, plot);
            svg.append(String.format(Locale.ROOT, "<line x1=\"60\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e7ef\"/>"
                    + "<text x=\"54\" y=\"%.1f\" text-anchor=\"end\">%s ms</text>", py, w - 20, py, py + 4,
                    fmtMs(Math.pow(10, y))));
        }
        List<String> styles = styles();
        for (int i = 0; i < series.size(); i++) {
            Histogram hist = series.get(i).merged();
            if (hist.getTotalCount() == 0) {
                continue;
            }
            StringBuilder points = new StringBuilder();
            for (double x = 0.30103; x <= xMax; x += 0.05) {
                double percentile = 100 * (1 - Math.pow(10, -x));
                double ms = Math.max(0.1, hist.getValueAtPercentile(percentile) / 1000.0);
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", 60 + x / xMax * (w - 80),
                        yPos(Math.log10(ms), yMin, yMax, plot)));
            }
            svg.append("<polyline fill=\"none\" ").append(styles.get(i)).append(" points=\"").append(points)
                    .append("\"/>");
        }
        return svg.append(legend(w, plot, styles)).append("</svg>").toString();
    }

    /**
     * One line style per series: a bare baseline is dashed and shares its color with the series measured against
     * it, which follows it.
     */
    private List<String> styles() {
        List<String> styles = new ArrayList<>();
        int color = -1;
        boolean previousBare = false;
        for (Series s : series) {
            boolean bare = s.name.startsWith("bare");
            if (bare || !previousBare) {
                color++;
            }
            styles.add("stroke=\"" + COLORS[color % COLORS.length] + "\" stroke-width=\"2\""
                    + (bare ? " stroke-dasharray=\"6 4\"" : ""));
            previousBare = bare;
        }
        return styles;
    }

    /** Opens an SVG whose height fits a plot of {@code plotHeight} and, under it, the legend. */
    private String open(int w, int plotHeight) {
        int h = plotHeight + legendHeight();
        return "<svg width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\">";
    }

    private int legendHeight() {
        return 10 + 18 * ((series.size() + 1) / 2);
    }

    /** The legend under the plot, in two columns. */
    private String legend(int w, int plotHeight, List<String> styles) {
        StringBuilder legend = new StringBuilder("<g class=\"legend\">");
        int rows = (series.size() + 1) / 2;
        for (int i = 0; i < series.size(); i++) {
            int x = 60 + (i / rows) * (w - 80) / 2;
            int y = plotHeight + 4 + 18 * (i % rows);
            legend.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" %s/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>", x, y, x + 28, y, styles.get(i), x + 36, y + 4,
                    escape(series.get(i).name)));
        }
        return legend.append("</g>").toString();
    }

    private static String pctLabel(double x) {
        return switch ((int) Math.round(x)) {
            case 1 -> "90";
            case 2 -> "99";
            case 3 -> "99.9";
            case 4 -> "99.99";
            default -> "99.999";
        };
    }

    private static double yPos(double logMs, double yMin, double yMax, int h) {
        return (h - 40) - (logMs - yMin) / (yMax - yMin) * (h - 60);
    }

    private String timelinePlot() {
        int w = 900;
        int h = 260;
        List<String> styles = styles();
        double maxRate = 1;
        int maxLen = 1;
        for (Series s : series) {
            if (!s.rounds.isEmpty()) {
                for (double r : s.medianRound().perSecond()) {
                    maxRate = Math.max(maxRate, r);
                }
                maxLen = Math.max(maxLen, s.medianRound().perSecond().size());
            }
        }
        StringBuilder svg = new StringBuilder(open(w, h));
        for (int k = 0; k <= 4; k++) {
            double py = (h - 30) - k / 4.0 * (h - 50);
            svg.append(String.format(Locale.ROOT, "<line x1=\"70\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e7ef\"/>"
                    + "<text x=\"64\" y=\"%.1f\" text-anchor=\"end\">%s/s</text>", py, w - 20, py, py + 4,
                    fmt(maxRate * k / 4)));
        }
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            if (s.rounds.isEmpty()) {
                continue;
            }
            List<Double> rates = s.medianRound().perSecond();
            StringBuilder points = new StringBuilder();
            for (int t = 0; t < rates.size(); t++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", 70 + (t + 1.0) / maxLen * (w - 90),
                        (h - 30) - rates.get(t) / maxRate * (h - 50)));
            }
            svg.append("<polyline fill=\"none\" ").append(styles.get(i)).append(" points=\"").append(points)
                    .append("\"/>");
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">seconds →</text>", w - 20,
                h - 8));
        return svg.append(legend(w, h, styles)).append("</svg>").toString();
    }

    public static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    public static String fmt2(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.2f", v);
    }

    /** " (min–max)" of {@code metric} over the series' rounds, or nothing for one round or no numbers. */
    private static String spread(Series series, ToDoubleFunction<Meter.Sample> metric) {
        double min = series.min(metric);
        return series.rounds.size() < 2 || Double.isNaN(min) ? ""
                : " (" + ms(min) + "–" + ms(series.max(metric)) + ")";
    }

    public static String ms(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String fmtMs(double v) {
        return v < 1 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
