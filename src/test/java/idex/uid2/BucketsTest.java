package idex.uid2;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.support.TestVectors;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.salts.BucketIds;
import idex.uid2.salts.SaltSettings;
import idex.uid2.salts.SaltStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** `POST /v2/identity/buckets`: parameter rules, the reference's answer, rotation, restart. */
class BucketsTest {

    private static final String PATH = "/v2/identity/buckets";

    @TempDir
    Path dataDir;

    private static Map<String, String> buckets(JsonNode answer) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode b : answer.get("body")) {
            assertThat(b.size()).isEqualTo(2);
            out.put(b.get("bucket_id").asText(), b.get("last_updated").asText());
        }
        return out;
    }

    private static String since(String value) {
        return "{\"since_timestamp\":" + value + "}";
    }

    @Test
    void referenceSaltsGiveTheReferenceAnswer() {
        try (TestServer server = TestServer.start(dataDir, 8)) {
            assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(),
                    "--data-dir", dataDir.toString())).isZero();
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);

            JsonNode answer = http.call(PATH, key.key(), key.secret(), since("\"2022-06-01T13:00:00\""));
            assertThat(answer.get("status").asText()).isEqualTo("success");
            assertThat(buckets(answer)).isEqualTo(Map.of(
                    "bKaoveQoPR", "2027-03-30T00:00:00.001",
                    "b1aZVGl7aB", "2026-08-17T00:00:00.001",
                    "bv3WM92zaA", "2026-12-30T00:00:00.001",
                    "bl5yy6kr58", "2026-11-30T00:00:00.001",
                    "be58Mjz13q", "2027-05-29T00:00:00.001"));

            // Inclusive at millisecond precision.
            assertThat(buckets(http.call(PATH, key.key(), key.secret(), since("\"2027-03-30T00:00:00.001\""))).keySet())
                    .containsExactlyInAnyOrder("bKaoveQoPR", "be58Mjz13q");
            assertThat(buckets(http.call(PATH, key.key(), key.secret(), since("\"2027-03-30T00:00:00.0011\""))).keySet())
                    .containsExactly("be58Mjz13q");
            assertThat(buckets(http.call(PATH, key.key(), key.secret(), since("\"2027-03-30T00:00\""))).keySet())
                    .containsExactlyInAnyOrder("bKaoveQoPR", "be58Mjz13q");
            // An integer is Unix seconds.
            long seconds = LocalDateTime.parse("2027-03-30T00:00:00").toEpochSecond(ZoneOffset.UTC);
            assertThat(buckets(http.call(PATH, key.key(), key.secret(), since(Long.toString(seconds)))).keySet())
                    .containsExactlyInAnyOrder("bKaoveQoPR", "be58Mjz13q");
            // Nothing newer: an empty list.
            JsonNode none = http.call(PATH, key.key(), key.secret(), since("\"2030-01-01T00:00:00\""));
            assertThat(Uid2Http.JSON.valueToTree(none).toString()).isEqualTo("{\"body\":[],\"status\":\"success\"}");
        }
    }

    @Test
    void parameterErrors() {
        try (TestServer server = TestServer.start(dataDir, 8)) {
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            for (String body : new String[]{"{}", since("null"), "{\"since\":\"2022-06-01T13:00:00\"}"}) {
                Uid2Http.Answer a = http.callRaw(PATH, key.key(), key.secret(), body);
                assertThat(a.status()).as(body).isEqualTo(400);
                assertThat(a.text()).isEqualTo("{\"message\":\"missing parameter since_timestamp\",\"status\":\"client_error\"}");
            }
            for (String value : new String[]{"\"2022-06-01\"", "\"2022-06-01 13:00:00\"", "\"2022-13-01T13:00:00\"", "\"2022-06-01T13:00:00.\"",
                    "\"2022-06-01T13:00:00.1234567891\"", "\"\"", "\"yesterday\"", "true", "1.5", "[]", "{}",
                    "\"+2022-06-01T13:00:00\""}) {
                Uid2Http.Answer a = http.callRaw(PATH, key.key(), key.secret(), since(value));
                assertThat(a.status()).as(value).isEqualTo(400);
                assertThat(a.text()).as(value)
                        .isEqualTo("{\"message\":\"invalid date, must conform to ISO 8601\",\"status\":\"client_error\"}");
            }
            // An offset is refused with a message that says why: the time is UTC and carries none.
            for (String value : new String[]{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00+02:00", "2024-01-01T00:00-0500",
                    "2022-06-01T13:00:00.123+00:00"}) {
                Uid2Http.Answer a = http.callRaw(PATH, key.key(), key.secret(), since("\"" + value + "\""));
                assertThat(a.status()).as(value).isEqualTo(400);
                assertThat(a.json().get("status").asText()).isEqualTo("client_error");
                assertThat(a.json().get("message").asText()).as(value)
                        .startsWith("invalid date, must conform to ISO 8601").contains("UTC, no offset").contains(value);
            }
            // Integers are seconds; from 10^11 on they can only be milliseconds, which would silently match nothing.
            for (String value : new String[]{"100000000000", "1700000000000", "99999999999999999999999"}) {
                Uid2Http.Answer a = http.callRaw(PATH, key.key(), key.secret(), since(value));
                assertThat(a.status()).as(value).isEqualTo(400);
                assertThat(a.json().get("status").asText()).isEqualTo("client_error");
                assertThat(a.json().get("message").asText()).as(value).contains(value).contains("seconds");
            }
            for (String value : new String[]{"\"2022-06-01T13:00\"", "\"2022-06-01T13:00:00.123456789\"", "0", "-5",
                    "1700000000", "99999999999", "-99999999999999999999999"}) {
                assertThat(http.callRaw(PATH, key.key(), key.secret(), since(value)).status()).as(value).isEqualTo(200);
            }
        }
    }

    @Test
    void rotationChangesExactlyTheChosenBucketsAndSurvivesARestart() {
        try (TestServer server = TestServer.start(dataDir, 100)) {
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            Map<String, String> before = buckets(http.call(PATH, key.key(), key.secret(), since("\"2000-01-01T00:00:00\"")));
            assertThat(before).hasSize(100);
            String created = before.values().iterator().next();
            assertThat(new HashSet<>(before.values())).containsExactly(created);
            Map<String, JsonNode> mappedBefore = mapEmails(http, key, 300);

            assertThat(Main.run("uid2", "salts", "rotate", "--fraction", "0.1", "--min-age-days", "0",
                    "--data-dir", dataDir.toString())).isZero();
            server.refreshNow();

            // The ten oldest buckets (all equally old: the lowest positions) rotated, and only they are reported.
            SaltSettings s = new SaltStore(server.database().jdbi()).settings().orElseThrow();
            BucketIds ids = new BucketIds(s.idPrefix(), s.idSecret());
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                expected.add(ids.encode(SaltStore.FIRST_BUCKET_ID + i));
            }
            String afterCreation = Instant.ofEpochMilli(Instant.parse(created + "Z").toEpochMilli() + 1).toString().replace("Z", "");
            Map<String, String> rotated = buckets(http.call(PATH, key.key(), key.secret(), since("\"" + afterCreation + "\"")));
            assertThat(rotated.keySet()).isEqualTo(expected);

            // Identities in rotated buckets get new ids and report the old one as previous; the others are unchanged.
            Map<String, JsonNode> mappedAfter = mapEmails(http, key, 300);
            int moved = 0;
            for (var e : mappedBefore.entrySet()) {
                JsonNode was = e.getValue();
                JsonNode now = mappedAfter.get(e.getKey());
                if (expected.contains(was.get("bucket").asText())) {
                    moved++;
                    assertThat(now.get("u").asText()).isNotEqualTo(was.get("u").asText());
                    assertThat(now.get("p").asText()).isEqualTo(was.get("u").asText());
                } else {
                    assertThat(now.get("u")).isEqualTo(was.get("u"));
                    assertThat(now.get("p").isNull()).isTrue();
                }
            }
            assertThat(moved).isGreaterThan(0);

            // A second rotation with the same policy takes the next ten, never the just-rotated ones.
            assertThat(Main.run("uid2", "salts", "rotate", "--fraction", "0.1", "--min-age-days", "0",
                    "--data-dir", dataDir.toString())).isZero();
            server.refreshNow();
            Map<String, String> twice = buckets(http.call(PATH, key.key(), key.secret(), since("\"" + afterCreation + "\"")));
            assertThat(twice).hasSize(20).containsKeys(expected.toArray(String[]::new));

            server.restart();
            Uid2Http again = new Uid2Http(server);
            assertThat(buckets(again.call(PATH, key.key(), key.secret(), since("\"" + afterCreation + "\"")))).isEqualTo(twice);
            Map<String, JsonNode> afterRestart = mapEmails(again, key, 300);
            for (var e : afterRestart.entrySet()) {
                assertThat(e.getValue().get("bucket")).isEqualTo(mappedAfter.get(e.getKey()).get("bucket"));
            }
        }
    }

    @Test
    void largeAnswersAreStreamedWhole() {
        try (TestServer server = TestServer.start(dataDir, 70_000)) {
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            // 70,000 buckets: more than the pre-formatted newest 65,536 and than the streaming threshold.
            Map<String, String> all = buckets(http.call(PATH, key.key(), key.secret(), since("0")));
            assertThat(all).hasSize(70_000);
            Map<String, String> again = buckets(http.call(PATH, key.key(), key.secret(), since("\"2000-01-01T00:00\"")));
            assertThat(again).isEqualTo(all);
        }
    }

    @Test
    void rotationRespectsTheMinimumAge() {
        try (TestServer server = TestServer.start(dataDir, 50)) {
            assertThat(Main.run("uid2", "salts", "rotate", "--data-dir", dataDir.toString())).isZero();
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            Map<String, String> all = buckets(http.call(PATH, key.key(), key.secret(), since("\"2000-01-01T00:00:00\"")));
            // Fresh buckets are younger than 30 days: nothing rotated.
            assertThat(new HashSet<>(all.values())).hasSize(1);
        }
    }

    /** Maps emails through v2 (bucket ids) and v3 (current and previous ids), keyed by email. */
    private static Map<String, JsonNode> mapEmails(Uid2Http http, IssuedClientKey key, int n) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < n; i++) {
            list.append(i == 0 ? "" : ",").append("\"person").append(i).append("@example.org\"");
        }
        JsonNode v2 = http.call("/v2/identity/map", key.key(), key.secret(), "{\"email\":[" + list + "]}");
        JsonNode v3 = http.call("/v3/identity/map", key.key(), key.secret(), "{\"email\":[" + list + "]}");
        Map<String, JsonNode> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            JsonNode m2 = v2.get("body").get("mapped").get(i);
            JsonNode m3 = v3.get("body").get("email").get(i);
            assertThat(m3.get("u").asText()).isEqualTo(m2.get("advertising_id").asText());
            var node = Uid2Http.JSON.createObjectNode();
            node.put("bucket", m2.get("bucket_id").asText());
            node.set("u", m3.get("u"));
            node.set("p", m3.get("p"));
            out.put(m2.get("identifier").asText(), node);
        }
        return out;
    }
}
