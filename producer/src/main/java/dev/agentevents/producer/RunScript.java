package dev.agentevents.producer;

import dev.agentevents.event.AgentInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * A realistic run, planned up front as a list of steps: thinking, a few tool calls (some failing), streamed
 * answer text, then completion — or, now and then, a failure part-way. The first step starts the run.
 */
final class RunScript {

    interface Step {
        /** Performs the step on {@code run} (null for the first step, which starts the run). */
        CompletableFuture<Published> perform(AgentRun run);
    }

    private static final String[] THOUGHTS = {
        "The user wants a comparison; I should gather current numbers first.",
        "Two sources disagree on the date. Checking the primary one.",
        "That query returned too much; narrowing it to the last quarter.",
        "I have enough to draft an answer, but one figure needs confirming.",
        "Breaking the task into: search, read, compute, summarize.",
        "The file is large; reading only the sections on pricing.",
    };
    private static final String[][] TOOLS = {
        {"web_search", "{\"query\":\"quarterly revenue 2026 cloud providers\"}",
            "{\"results\":[{\"title\":\"Q3 2026 cloud market report\",\"url\":\"https://example.com/q3\"}]}"},
        {"read_file", "{\"path\":\"reports/pricing.md\",\"lines\":[1,120]}",
            "{\"content\":\"## Pricing\\nStandard tier: 12 EUR/month ...\",\"truncated\":true}"},
        {"run_sql", "{\"query\":\"select region, sum(amount) from orders group by region\"}",
            "{\"rows\":[[\"eu\",18234.5],[\"us\",22110.0]],\"rowCount\":2}"},
        {"get_weather", "{\"city\":\"K\\u00f6ln\",\"days\":3}",
            "{\"forecast\":[{\"day\":\"Mon\",\"high\":11,\"sky\":\"rain\"},{\"day\":\"Tue\",\"high\":13,\"sky\":\"cloudy\"}]}"},
        {"calculator", "{\"expression\":\"(18234.5 + 22110) / 2\"}", "{\"value\":20172.25}"},
        {"send_email", "{\"to\":\"team@example.com\",\"subject\":\"Summary\"}", "{\"status\":\"queued\",\"id\":\"m-4411\"}"},
    };
    private static final String[] ANSWER = ("Here is what I found: revenue grew in both regions, with the US ahead by "
            + "about 21 percent. The EU figure includes one late invoice. I would double-check the Q3 numbers "
            + "before sharing them outside the team.").split(" ");
    private static final String[] FAILURES = {"TOOL_TIMEOUT", "MODEL_ERROR", "CANCELLED", "RATE_LIMITED"};

    private RunScript() {
    }

    /** The steps of one run of {@code userId}; step 0 starts it and must be performed with {@code null}. */
    static List<Step> plan(EventPublisher publisher, String userId, int runNumber, Random random,
                           double failureRate, AgentInfo agent) {
        List<Step> steps = new ArrayList<>();
        RunStart start = RunStart.of(userId, "thread-" + userId + "-" + (runNumber / 3), agent);
        AgentRun[] holder = new AgentRun[1];
        steps.add(ignored -> {
            holder[0] = publisher.startRun(start);
            return holder[0].started();
        });
        steps.add(run -> run.thinking(pick(random, THOUGHTS)));
        int tools = 1 + random.nextInt(3);
        for (int t = 0; t < tools; t++) {
            String[] tool = TOOLS[random.nextInt(TOOLS.length)];
            String callId = "call-" + (t + 1);
            boolean toolError = random.nextDouble() < 0.1;
            steps.add(run -> run.toolExecuting(callId, tool[0], tool[1]));
            steps.add(run -> run.toolCompleted(callId, toolError
                    ? "{\"error\":\"upstream returned 503\",\"retryAfterMs\":2000}" : tool[2], toolError));
            if (random.nextBoolean()) {
                steps.add(run -> run.thinking(pick(random, THOUGHTS)));
            }
        }
        int words = ANSWER.length;
        int chunk = 4 + random.nextInt(4);
        for (int from = 0; from < words; from += chunk) {
            String text = String.join(" ", java.util.Arrays.copyOfRange(ANSWER, from, Math.min(words, from + chunk)))
                    + (from + chunk < words ? " " : "");
            steps.add(run -> run.messageDelta(text));
        }
        if (random.nextDouble() < failureRate) {
            int cut = 2 + random.nextInt(steps.size() - 2);
            steps.subList(cut, steps.size()).clear();
            String code = pick(random, FAILURES);
            steps.add(run -> run.failed(code, failureMessage(code), !code.equals("CANCELLED")));
        } else {
            long in = 800 + random.nextInt(4000);
            long out = 100 + random.nextInt(600);
            steps.add(run -> run.completed("{\"answer\":\"" + String.join(" ", ANSWER) + "\"}",
                    new Usage(in, out, "stop")));
        }
        return wrapHolder(steps, holder);
    }

    /** Steps after the first act on the run the first one started. */
    private static List<Step> wrapHolder(List<Step> steps, AgentRun[] holder) {
        List<Step> bound = new ArrayList<>(steps.size());
        bound.add(steps.get(0));
        for (Step step : steps.subList(1, steps.size())) {
            bound.add(ignored -> step.perform(holder[0]));
        }
        return bound;
    }

    private static String failureMessage(String code) {
        return switch (code) {
            case "TOOL_TIMEOUT" -> "tool web_search did not answer within 30 s";
            case "MODEL_ERROR" -> "the model returned an invalid tool call twice";
            case "CANCELLED" -> "the user cancelled the run";
            default -> "rate limit of the model provider reached; retry in 20 s";
        };
    }

    private static String pick(Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }
}
