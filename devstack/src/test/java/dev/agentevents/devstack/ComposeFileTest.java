package dev.agentevents.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentevents.config.Environment;
import dev.agentevents.fanout.FanoutConfig;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.router.RouterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml cannot run here (no Docker engine), so its wiring is checked instead: every application
 * service's variables are ones its config record reads and accepts (a renamed variable breaks this test), the
 * images come from the Dockerfile that builds the jars the commands run, ports line up with the settings, and the
 * Kafka cluster has three brokers with replication 3 and min.insync.replicas 2.
 */
class ComposeFileTest {

    private static final Path ROOT = Path.of("..");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{(\\w+)(?::?[-?]([^}]*))?}");

    private final JsonNode services;

    /** SnakeYAML resolves anchors, aliases and merge keys ({@code <<: *app}) as docker compose does. */
    ComposeFileTest() throws Exception {
        try (var reader = Files.newBufferedReader(ROOT.resolve("docker-compose.yml"))) {
            Object document = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.LoaderOptions()).load(reader);
            services = JSON.valueToTree(document).get("services");
        }
    }

    /** A service's environment with ${VAR:-default} resolved to its default and ${VAR:?msg} to a valid stand-in. */
    private static Map<String, String> environment(JsonNode service) {
        Map<String, String> env = new LinkedHashMap<>();
        service.path("environment").fields().forEachRemaining(field -> {
            String value = field.getValue().asText();
            Matcher m = INTERPOLATION.matcher(value);
            StringBuilder resolved = new StringBuilder();
            while (m.find()) {
                String fallback = value.substring(m.start(), m.end()).contains(":?")
                        ? "a-secret-long-enough-for-the-hs256-check-0123" : m.group(2) == null ? "" : m.group(2);
                m.appendReplacement(resolved, Matcher.quoteReplacement(fallback));
            }
            m.appendTail(resolved);
            env.put(field.getKey(), resolved.toString());
        });
        return env;
    }

    private static String command(JsonNode service) {
        List<String> parts = new ArrayList<>();
        service.path("command").forEach(p -> parts.add(p.asText()));
        return String.join(" ", parts);
    }

    private Map<String, JsonNode> servicesRunning(String commandPart) {
        Map<String, JsonNode> found = new LinkedHashMap<>();
        services.fields().forEachRemaining(f -> {
            if (command(f.getValue()).contains(commandPart)) {
                found.put(f.getKey(), f.getValue());
            }
        });
        return found;
    }

    /** Reads the service's variables with {@code reader} and returns the names it asked for. */
    private static Set<String> readBy(Map<String, String> env, Function<Environment, ?> reader) {
        Environment environment = Environment.of(env);
        reader.apply(environment);
        return environment.requested();
    }

    private static void assertEveryVariableIsRead(String service, Map<String, String> env, Set<String> read) {
        for (String name : env.keySet()) {
            boolean known = read.contains(name) || (name.startsWith("KAFKA_") && read.contains("KAFKA_*"));
            assertThat(known).as("%s sets %s, which its config record does not read (read: %s)", service, name, read)
                    .isTrue();
        }
    }

    @Test
    void shouldOnlySetVariablesTheRoutersReadAndValuesTheyAccept() {
        Map<String, JsonNode> routers = servicesRunning("/app/agent-events-router.jar");
        assertThat(routers).containsOnlyKeys("router-1", "router-2");
        routers.forEach((name, service) -> {
            Map<String, String> env = environment(service);
            Set<String> read = readBy(env, RouterConfig::from);
            assertEveryVariableIsRead(name, env, read);
            RouterConfig config = RouterConfig.fromEnv(env);
            assertThat(service.path("healthcheck").path("test").toString()).contains(":" + config.httpPort() + "/health");
            assertThat(config.processingGuarantee()).isEqualTo("exactly_once_v2");
        });
    }

    @Test
    void shouldOnlySetVariablesTheFanoutNodesReadAndMatchTheEntryPoint() throws Exception {
        Map<String, JsonNode> nodes = servicesRunning("/app/agent-events-fanout.jar");
        assertThat(nodes).containsOnlyKeys("fanout-1", "fanout-2");
        String nginx = Files.readString(ROOT.resolve(services.path("entry").path("volumes").get(0).asText()
                .split(":")[0].replaceFirst("^\\./", "")));
        nodes.forEach((name, service) -> {
            Map<String, String> env = environment(service);
            assertEveryVariableIsRead(name, env, readBy(env, FanoutConfig::from));
            FanoutConfig config = FanoutConfig.fromEnv(env);
            assertThat(service.path("expose").toString()).contains("\"" + config.port() + "\"");
            assertThat(nginx).contains("server " + name + ":" + config.port() + ";");
            String path = config.publicUrl().replaceFirst("^ws://[^/]+", "").replaceFirst("ws$", "");
            assertThat(nginx).contains("location " + path + " {").contains("proxy_pass http://" + name + ":"
                    + config.port() + "/;");
            assertThat(config.demo()).isFalse();
        });
        assertThat(FanoutConfig.fromEnv(environment(nodes.get("fanout-1"))).nodeId())
                .isNotEqualTo(FanoutConfig.fromEnv(environment(nodes.get("fanout-2"))).nodeId());
    }

    @Test
    void shouldOnlySetVariablesTheSimulatorReads() {
        Map<String, JsonNode> simulators = servicesRunning("dev.agentevents.producer.SimulatorMain");
        assertThat(simulators).containsOnlyKeys("simulator");
        Map<String, String> env = environment(simulators.get("simulator"));
        assertEveryVariableIsRead("simulator", env, readBy(env, PublisherConfig::from));
    }

    @Test
    void shouldBuildEveryApplicationImageFromTheDockerfileThatCopiesTheJarsItRuns() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        services.fields().forEachRemaining(f -> {
            String command = command(f.getValue());
            if (command.contains("/app/")) {
                assertThat(f.getValue().path("build").asText()).as(f.getKey()).isEqualTo(".");
                Matcher jar = Pattern.compile("/app/([\\w-]+)\\.jar").matcher(command);
                assertThat(jar.find()).isTrue();
                String name = jar.group(1);
                assertThat(dockerfile).as("%s runs %s.jar", f.getKey(), name).contains("target/" + name + ".jar");
            }
        });
        Matcher copied = Pattern.compile("/src/([\\w-]+)/target/([\\w-]+)\\.jar").matcher(dockerfile);
        int jars = 0;
        while (copied.find()) {
            String pom = Files.readString(ROOT.resolve(copied.group(1)).resolve("pom.xml"));
            assertThat(pom).contains("<shade.jarName>" + copied.group(2) + "</shade.jarName>");
            jars++;
        }
        assertThat(jars).isEqualTo(4);
    }

    @Test
    void shouldRunThreeBrokersWithReplicationThreeAndMinInSyncReplicasTwo() {
        List<JsonNode> brokers = new ArrayList<>();
        services.fields().forEachRemaining(f -> {
            if (f.getValue().path("image").asText().startsWith("apache/kafka") && f.getValue().has("environment")
                    && f.getValue().path("environment").has("KAFKA_NODE_ID")) {
                brokers.add(f.getValue().path("environment"));
            }
        });
        assertThat(brokers).hasSize(3);
        assertThat(brokers).allMatch(env -> env.path("KAFKA_DEFAULT_REPLICATION_FACTOR").asInt() == 3
                && env.path("KAFKA_MIN_INSYNC_REPLICAS").asInt() == 2
                && env.path("KAFKA_CONTROLLER_QUORUM_VOTERS").asText().split(",").length == 3);
        assertThat(services.path("schema-registry").path("image").asText()).startsWith("confluentinc/cp-schema-registry");
        assertThat(services.path("topics").path("command").toString()).contains("--partitions 12")
                .contains("--replication-factor 3").contains("min.insync.replicas=2");
    }
}
