package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Behaviours of Confluent's Schema Registry REST API (after its RestApiTest, RestApiModeTest and
 * RestApiCompatibilityTest), held against the embedded registry over real HTTP. Each test gets a registry on a
 * topic of its own.
 */
@Tag("slow")
class SchemaRegistryConformanceTest {

    private static final String V1 = record("f1", "\"string\"", null);
    private static final String V2_OPTIONAL = "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
            + "{\"name\":\"f1\",\"type\":\"string\"},{\"name\":\"f2\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
    private static final String V2_REQUIRED = "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
            + "{\"name\":\"f1\",\"type\":\"string\"},{\"name\":\"f2\",\"type\":\"string\"}]}";
    private static final String INT_F1 = record("f1", "\"int\"", null);

    private String topic;
    private SchemaRegistryServer registry;
    private RegistryHttp http;

    private static String record(String field, String type, String defaultJson) {
        return "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"" + field + "\",\"type\":" + type
                + (defaultJson == null ? "" : ",\"default\":" + defaultJson) + "}]}";
    }

    @BeforeEach
    void startRegistry() {
        topic = "_schemas-" + UUID.randomUUID();
        registry = start();
        http = new RegistryHttp(registry.url());
    }

    private SchemaRegistryServer start() {
        RegistryConfig base = RegistryConfig.of(EmbeddedStack.shared().kafka().bootstrapServers(), 0, (short) 1);
        return SchemaRegistryServer.start(new RegistryConfig(base.kafka(), base.host(), 0, topic,
                base.replicationFactor(), base.defaultCompatibility()));
    }

    @AfterEach
    void stopRegistry() {
        registry.close();
    }

    @Test
    void shouldGiveIdsOneTwoThreeInRegistrationOrder() {
        http.put("/config", "{\"compatibility\":\"NONE\"}");

        assertThat(http.registerOk("s", V1)).isEqualTo(1);
        assertThat(http.registerOk("s", INT_F1)).isEqualTo(2);
        assertThat(http.registerOk("t", record("g", "\"long\"", null))).isEqualTo(3);
    }

    @Test
    void shouldReturnSameIdAndNoNewVersionWhenSameSchemaIsRegisteredTwice() {
        int first = http.registerOk("s", V1);
        int second = http.registerOk("s", V1.replace(",", " , "));

        assertThat(second).isEqualTo(first);
        assertThat(http.get("/subjects/s/versions").json().toString()).isEqualTo("[1]");
    }

    @Test
    void shouldReuseIdAtVersionOneWhenSameSchemaIsRegisteredUnderAnotherSubject() {
        http.put("/config", "{\"compatibility\":\"NONE\"}");
        http.registerOk("s", INT_F1);
        int id = http.registerOk("s", V1);

        assertThat(http.registerOk("other", V1)).isEqualTo(id);
        RegistryHttp.Response lookup = http.post("/subjects/other", RegistryHttp.schemaBody(V1));
        assertThat(lookup.json().get("version").asInt()).isEqualTo(1);
        assertThat(lookup.json().get("id").asInt()).isEqualTo(id);
    }

    @Test
    void shouldAnswer409AndRegisterNothingWhenSchemaIsIncompatible() {
        http.registerOk("s", V1);

        RegistryHttp.Response response = http.register("s", V2_REQUIRED);

        assertThat(response.status()).isEqualTo(409);
        assertThat(response.errorCode()).isEqualTo(409);
        assertThat(response.json().get("message").asText()).contains("incompatible").contains("f2");
        assertThat(http.get("/subjects/s/versions").json().toString()).isEqualTo("[1]");
        assertThat(http.get("/schemas/ids/2").status()).isEqualTo(404);
    }

    @Test
    void shouldAnswer42201WhenSchemaIsInvalid() {
        RegistryHttp.Response notAvro = http.register("s", "{\"type\":\"recrod\",\"name\":\"r\"}");
        RegistryHttp.Response notJson = http.register("s", "this is not a schema");

        assertThat(notAvro.status()).isEqualTo(422);
        assertThat(notAvro.errorCode()).isEqualTo(42201);
        assertThat(notJson.errorCode()).isEqualTo(42201);
        assertThat(http.get("/subjects").json()).isEmpty();
    }

    @Test
    void shouldAnswer42201WhenDefaultDoesNotMatchItsType() {
        RegistryHttp.Response response = http.register("s", record("f1", "\"int\"", "\"not a number\""));

        assertThat(response.status()).isEqualTo(422);
        assertThat(response.errorCode()).isEqualTo(42201);
    }

    @Test
    void shouldAnswer40403WhenSchemaIdIsUnknown() {
        RegistryHttp.Response response = http.get("/schemas/ids/7");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo(40403);
        assertThat(response.json().get("message").asText()).isEqualTo("Schema 7 not found");
    }

    @Test
    void shouldAnswer40401WhenSubjectIsUnknown() {
        assertThat(http.get("/subjects/nobody/versions").errorCode()).isEqualTo(40401);
        assertThat(http.get("/subjects/nobody/versions/1").errorCode()).isEqualTo(40401);
        assertThat(http.post("/subjects/nobody", RegistryHttp.schemaBody(V1)).errorCode()).isEqualTo(40401);
    }

    @Test
    void shouldAnswer40402WhenVersionIsUnknown() {
        http.registerOk("s", V1);

        RegistryHttp.Response response = http.get("/subjects/s/versions/2");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo(40402);
    }

    @Test
    void shouldAnswer42202WhenVersionIsZeroOrNotANumber() {
        http.registerOk("s", V1);

        assertThat(http.get("/subjects/s/versions/0").errorCode()).isEqualTo(42202);
        assertThat(http.get("/subjects/s/versions/first").errorCode()).isEqualTo(42202);
        assertThat(http.get("/subjects/s/versions/0").status()).isEqualTo(422);
    }

    @Test
    void shouldServeLatestVersionAndRawSchema() {
        http.registerOk("s", V1);
        int id = http.registerOk("s", V2_OPTIONAL);

        RegistryHttp.Response latest = http.get("/subjects/s/versions/latest");

        assertThat(latest.json().get("version").asInt()).isEqualTo(2);
        assertThat(latest.json().get("id").asInt()).isEqualTo(id);
        assertThat(latest.json().get("subject").asText()).isEqualTo("s");
        assertThat(http.get("/subjects/s/versions/2/schema").json().get("fields")).hasSize(2);
        assertThat(http.get("/schemas/ids/" + id + "/schema").json().get("name").asText()).isEqualTo("r");
        assertThat(http.get("/schemas/types").json().toString()).isEqualTo("[\"AVRO\"]");
    }

    @Test
    void shouldLookUpRegisteredSchemaAndAnswer40403ForUnregisteredOne() {
        int id = http.registerOk("s", V1);

        RegistryHttp.Response found = http.post("/subjects/s", RegistryHttp.schemaBody(V1));
        RegistryHttp.Response missing = http.post("/subjects/s", RegistryHttp.schemaBody(INT_F1));

        assertThat(found.json().get("id").asInt()).isEqualTo(id);
        assertThat(found.json().get("version").asInt()).isEqualTo(1);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.errorCode()).isEqualTo(40403);
    }

    @Test
    void shouldListSubjectsAndVersionsThatUseAnId() {
        http.put("/config", "{\"compatibility\":\"NONE\"}");
        int id = http.registerOk("a", V1);
        http.registerOk("b", INT_F1);
        http.registerOk("b", V1);

        assertThat(http.get("/schemas/ids/" + id + "/subjects").json().toString()).isEqualTo("[\"a\",\"b\"]");
        assertThat(http.get("/schemas/ids/" + id + "/versions").json().toString())
                .isEqualTo("[{\"subject\":\"a\",\"version\":1},{\"subject\":\"b\",\"version\":2}]");
        assertThat(http.get("/subjects").json().toString()).isEqualTo("[\"a\",\"b\"]");
    }

    @Test
    void shouldHideSoftDeletedVersionButShowItWithDeletedTrue() {
        http.registerOk("s", V1);
        http.registerOk("s", V2_OPTIONAL);

        assertThat(http.delete("/subjects/s/versions/1").json().asInt()).isEqualTo(1);

        assertThat(http.get("/subjects/s/versions").json().toString()).isEqualTo("[2]");
        assertThat(http.get("/subjects/s/versions?deleted=true").json().toString()).isEqualTo("[1,2]");
        assertThat(http.get("/subjects/s/versions/1").errorCode()).isEqualTo(40402);
        assertThat(http.get("/subjects/s/versions/1?deleted=true").json().get("version").asInt()).isEqualTo(1);
    }

    @Test
    void shouldGiveNewVersionAndSameIdWhenSchemaIsRegisteredAgainAfterDelete() {
        int id = http.registerOk("s", V1);
        http.delete("/subjects/s/versions/1");

        int again = http.registerOk("s", V1);

        assertThat(again).isEqualTo(id);
        assertThat(http.get("/subjects/s/versions").json().toString()).isEqualTo("[2]");
    }

    @Test
    void shouldAnswer40407WhenVersionIsPermanentlyDeletedBeforeSoftDelete() {
        http.registerOk("s", V1);

        RegistryHttp.Response response = http.delete("/subjects/s/versions/1?permanent=true");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo(40407);
        assertThat(http.get("/subjects/s/versions/1").status()).isEqualTo(200);
    }

    @Test
    void shouldAnswer40406WhenVersionIsSoftDeletedTwiceAnd40404ForSubject() {
        http.registerOk("s", V1);
        http.registerOk("t", V1);
        http.delete("/subjects/s/versions/1");
        http.delete("/subjects/t");

        assertThat(http.delete("/subjects/s/versions/1").errorCode()).isEqualTo(40406);
        assertThat(http.delete("/subjects/t").errorCode()).isEqualTo(40404);
    }

    @Test
    void shouldAnswer40405WhenSubjectIsPermanentlyDeletedBeforeSoftDelete() {
        http.registerOk("s", V1);

        assertThat(http.delete("/subjects/s?permanent=true").errorCode()).isEqualTo(40405);
        assertThat(http.get("/subjects").json().toString()).isEqualTo("[\"s\"]");
    }

    @Test
    void shouldForgetSubjectWhenPermanentlyDeletedAfterSoftDeleteAndNeverReuseItsId() {
        int id = http.registerOk("s", V1);
        assertThat(http.delete("/subjects/s").json().toString()).isEqualTo("[1]");
        assertThat(http.get("/subjects?deleted=true").json().toString()).isEqualTo("[\"s\"]");
        assertThat(http.get("/subjects").json()).isEmpty();

        assertThat(http.delete("/subjects/s?permanent=true").json().toString()).isEqualTo("[1]");

        assertThat(http.get("/subjects?deleted=true").json()).isEmpty();
        assertThat(http.get("/schemas/ids/" + id).errorCode()).isEqualTo(40403);
        assertThat(http.registerOk("s", V1)).isEqualTo(id + 1);
    }

    @Test
    @DisplayName("compatibility of a subject falls back to the global level until the subject sets its own")
    void shouldFallBackToGlobalCompatibilityWhenSubjectHasNone() {
        http.put("/config", "{\"compatibility\":\"FORWARD\"}");
        http.registerOk("s", V1);

        assertThat(http.register("s", V2_REQUIRED).status()).isEqualTo(200);
        http.put("/config", "{\"compatibility\":\"BACKWARD\"}");
        assertThat(http.register("s", record("f1", "\"string\"", null).replace("\"r\"", "\"r\",\"doc\":\"x\""))
                .status()).isEqualTo(200);
        assertThat(http.register("s", INT_F1).status()).isEqualTo(409);

        http.put("/config/s", "{\"compatibility\":\"NONE\"}");
        assertThat(http.register("s", INT_F1).status()).isEqualTo(200);
        assertThat(http.get("/config").json().get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
    }

    @Test
    void shouldAnswer40408ForUnsetSubjectConfigUnlessAskedToDefaultToGlobal() {
        http.put("/config", "{\"compatibility\":\"FULL\"}");

        assertThat(http.get("/config/s").errorCode()).isEqualTo(40408);
        assertThat(http.get("/config/s?defaultToGlobal=true").json().get("compatibilityLevel").asText())
                .isEqualTo("FULL");
        assertThat(http.put("/config/s", "{\"compatibility\":\"FULL_TRANSITIVE\"}").json().get("compatibility")
                .asText()).isEqualTo("FULL_TRANSITIVE");
        assertThat(http.get("/config/s").json().get("compatibilityLevel").asText()).isEqualTo("FULL_TRANSITIVE");
        assertThat(http.delete("/config/s").status()).isEqualTo(200);
        assertThat(http.get("/config/s").errorCode()).isEqualTo(40408);
    }

    @Test
    void shouldAnswer42203WhenCompatibilityLevelIsInvalid() {
        RegistryHttp.Response response = http.put("/config", "{\"compatibility\":\"SOMETIMES\"}");

        assertThat(response.status()).isEqualTo(422);
        assertThat(response.errorCode()).isEqualTo(42203);
        assertThat(http.get("/config").json().get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
    }

    @Test
    void shouldCheckEveryVersionOnlyWhenLevelIsTransitive() {
        // t holds f1:string (v1) then f1:int (v2, registered under NONE)
        http.put("/config/t", "{\"compatibility\":\"BACKWARD\"}");
        http.registerOk("t", V1);
        http.put("/config/t", "{\"compatibility\":\"NONE\"}");
        http.registerOk("t", INT_F1);
        http.put("/config/t", "{\"compatibility\":\"BACKWARD\"}");
        // BACKWARD checks the newest version only: an int reader reads v2, so this passes
        String intF1WithDefault = record("f1", "\"int\"", "1").replace("\"r\"", "\"r\",\"doc\":\"d\"");
        assertThat(http.register("t", intF1WithDefault).status()).isEqualTo(200);
        // BACKWARD_TRANSITIVE also checks v1, whose string f1 an int reader cannot read
        http.put("/config/t", "{\"compatibility\":\"BACKWARD_TRANSITIVE\"}");
        String intF1Doc2 = record("f1", "\"int\"", "2").replace("\"r\"", "\"r\",\"doc\":\"e\"");
        RegistryHttp.Response transitive = http.register("t", intF1Doc2);
        assertThat(transitive.status()).isEqualTo(409);
        assertThat(transitive.json().get("message").asText()).contains("#1");
    }

    @Test
    void shouldReportCompatibilityWithReasonsWithoutRegistering() {
        http.registerOk("s", V1);

        RegistryHttp.Response bad = http.post("/compatibility/subjects/s/versions/latest?verbose=true",
                RegistryHttp.schemaBody(V2_REQUIRED));
        RegistryHttp.Response good = http.post("/compatibility/subjects/s/versions/1",
                RegistryHttp.schemaBody(V2_OPTIONAL));
        RegistryHttp.Response empty = http.post("/compatibility/subjects/fresh/versions/latest",
                RegistryHttp.schemaBody(V1));

        assertThat(bad.json().get("is_compatible").asBoolean()).isFalse();
        assertThat(bad.json().get("messages").get(0).asText()).contains("READER_FIELD_MISSING_DEFAULT_VALUE");
        assertThat(good.json().get("is_compatible").asBoolean()).isTrue();
        assertThat(empty.json().get("is_compatible").asBoolean()).isTrue();
        assertThat(http.get("/subjects/s/versions").json().toString()).isEqualTo("[1]");
    }

    @Test
    void shouldBlockRegistrationAndDeletionWith42205InReadOnlyMode() {
        http.registerOk("s", V1);
        assertThat(http.put("/mode", "{\"mode\":\"READONLY\"}").json().get("mode").asText()).isEqualTo("READONLY");

        RegistryHttp.Response register = http.register("s", V2_OPTIONAL);
        RegistryHttp.Response delete = http.delete("/subjects/s/versions/1");

        assertThat(register.status()).isEqualTo(422);
        assertThat(register.errorCode()).isEqualTo(42205);
        assertThat(delete.errorCode()).isEqualTo(42205);
        assertThat(http.get("/subjects/s/versions/1").status()).isEqualTo(200);

        http.put("/mode/s", "{\"mode\":\"READWRITE\"}");
        assertThat(http.register("s", V2_OPTIONAL).status()).isEqualTo(200);
        assertThat(http.get("/mode/other").errorCode()).isEqualTo(40409);
        assertThat(http.get("/mode/other?defaultToGlobal=true").json().get("mode").asText()).isEqualTo("READONLY");
    }

    @Test
    void shouldAnswer42204WhenModeIsInvalidAndRefuseImportWhileSubjectsExist() {
        http.registerOk("s", V1);

        assertThat(http.put("/mode", "{\"mode\":\"SOMETIMES\"}").errorCode()).isEqualTo(42204);
        assertThat(http.put("/mode", "{\"mode\":\"IMPORT\"}").errorCode()).isEqualTo(42205);
        assertThat(http.get("/mode").json().get("mode").asText()).isEqualTo("READWRITE");
    }

    @Test
    void shouldRegisterUnderGivenIdInImportMode() {
        http.put("/mode/imported", "{\"mode\":\"IMPORT\"}");

        RegistryHttp.Response imported = http.post("/subjects/imported/versions",
                "{\"schema\":" + RegistryHttp.JSON.valueToTree(V1) + ",\"id\":100,\"version\":3}");

        assertThat(imported.json().get("id").asInt()).isEqualTo(100);
        assertThat(http.get("/subjects/imported/versions/3").json().get("id").asInt()).isEqualTo(100);
        http.put("/mode/imported", "{\"mode\":\"READWRITE\"}");
        assertThat(http.registerOk("other", INT_F1)).isEqualTo(101);
    }

    @Test
    void shouldAnswer404ForUnknownPathsAnd405ForWrongMethods() {
        RegistryHttp.Response unknown = http.get("/no/such/thing");

        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.errorCode()).isEqualTo(404);
        assertThat(http.get("/subjects/s/versions/1/nope").status()).isEqualTo(404);
        assertThat(http.delete("/schemas/types").status()).isEqualTo(405);
    }

    @Test
    void shouldAnswer42208ForBlankSubjectAndRefuseSchemaReferences() {
        assertThat(http.register("%20", V1).errorCode()).isEqualTo(42208);
        RegistryHttp.Response withReferences = http.post("/subjects/s/versions", "{\"schema\":"
                + RegistryHttp.JSON.valueToTree(V1) + ",\"references\":[{\"name\":\"x\",\"subject\":\"y\",\"version\":1}]}");
        assertThat(withReferences.errorCode()).isEqualTo(42201);
    }

    @Test
    void shouldKeepEveryIdVersionAndSettingWhenRegistryRestarts() {
        http.put("/config", "{\"compatibility\":\"NONE\"}");
        int a = http.registerOk("a", V1);
        int b = http.registerOk("b", INT_F1);
        http.delete("/subjects/a/versions/1");
        http.put("/config/b", "{\"compatibility\":\"FULL\"}");

        registry.close();
        registry = start();
        http = new RegistryHttp(registry.url());

        assertThat(http.get("/schemas/ids/" + a).json().get("schema").asText()).contains("\"f1\"");
        assertThat(http.get("/subjects/b/versions/1").json().get("id").asInt()).isEqualTo(b);
        assertThat(http.get("/subjects/a/versions").errorCode()).isEqualTo(40401);
        assertThat(http.get("/subjects/a/versions?deleted=true").json().toString()).isEqualTo("[1]");
        assertThat(http.get("/config/b").json().get("compatibilityLevel").asText()).isEqualTo("FULL");
        assertThat(http.get("/config").json().get("compatibilityLevel").asText()).isEqualTo("NONE");
        assertThat(http.registerOk("c", record("g", "\"long\"", null))).isEqualTo(3);
    }
}
