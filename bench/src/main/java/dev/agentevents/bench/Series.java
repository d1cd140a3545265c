package dev.agentevents.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.EventJson;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.DoubleStream;
import org.HdrHistogram.Histogram;

/** The rounds of one side of a comparison (say, "pipeline at 5k/s"): medians with min and max over the rounds. */
public final class Series {

    public final String name;
    public final List<Meter.Sample> rounds = new ArrayList<>();

    public Series(String name) {
        this.name = name;
    }

    public void add(Meter.Sample sample) {
        rounds.add(sample);
    }

    public double median(ToDoubleFunction<Meter.Sample> metric) {
        return median(rounds.stream().mapToDouble(metric));
    }

    /** The median of {@code values} that are numbers; NaN if none is. */
    public static double median(DoubleStream values) {
        double[] sorted = values.filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    public double min(ToDoubleFunction<Meter.Sample> metric) {
        return rounds.stream().mapToDouble(metric).filter(v -> !Double.isNaN(v)).min().orElse(Double.NaN);
    }

    public double max(ToDoubleFunction<Meter.Sample> metric) {
        return rounds.stream().mapToDouble(metric).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    public double rate() {
        return median(Meter.Sample::perSecondRate);
    }

    /**
     * The latency at {@code percentile} over every round's arrivals together (ms): a p99 resolved by all the events of
     * the series, not the median of short rounds' p99s. {@link #min}/{@link #max} of {@code r -> r.millis(p)} give
     * the spread of the rounds.
     */
    public double p(double percentile) {
        Histogram all = merged();
        return all.getTotalCount() == 0 ? Double.NaN : all.getValueAtPercentile(percentile) / 1000.0;
    }

    /** All rounds' latencies together, for the percentile plot. */
    public Histogram merged() {
        Histogram all = new Histogram(3_600_000_000L, 3);
        rounds.forEach(r -> all.add(r.latency()));
        return all;
    }

    /** The round whose rate is the median one, for the throughput-over-time plot. */
    public Meter.Sample medianRound() {
        Meter.Sample[] sorted = rounds.toArray(new Meter.Sample[0]);
        Arrays.sort(sorted, (a, b) -> Double.compare(a.perSecondRate(), b.perSecondRate()));
        return sorted[sorted.length / 2];
    }

    public ObjectNode toJson() {
        ObjectNode json = EventJson.MAPPER.createObjectNode();
        json.put("name", name);
        var list = json.putArray("rounds");
        for (Meter.Sample round : rounds) {
            ObjectNode r = list.addObject();
            r.put("events", round.count()).put("seconds", round.seconds()).put("eventsPerSecond", round.perSecondRate())
                    .put("p50Ms", round.millis(50)).put("p99Ms", round.millis(99)).put("p999Ms", round.millis(99.9))
                    .put("maxMs", round.maxMillis());
            var perSecond = r.putArray("perSecond");
            round.perSecond().forEach(perSecond::add);
        }
        json.putObject("allRounds").put("p50Ms", p(50)).put("p99Ms", p(99)).put("p999Ms", p(99.9));
        for (String stat : List.of("median", "min", "max")) {
            ObjectNode s = json.putObject(stat);
            s.put("eventsPerSecond", stat(stat, Meter.Sample::perSecondRate))
                    .put("p50Ms", stat(stat, r -> r.millis(50))).put("p99Ms", stat(stat, r -> r.millis(99)))
                    .put("p999Ms", stat(stat, r -> r.millis(99.9))).put("maxMs", stat(stat, Meter.Sample::maxMillis));
        }
        return json;
    }

    private double stat(String which, ToDoubleFunction<Meter.Sample> metric) {
        return switch (which) {
            case "median" -> median(metric);
            case "min" -> min(metric);
            default -> max(metric);
        };
    }
}
