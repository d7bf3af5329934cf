package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;
import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static idex.exchange.jobs.JobProcessingTest.awaitStatus;
import static idex.exchange.jobs.JobProcessingTest.create;
import static idex.exchange.jobs.JobProcessingTest.export;
import static idex.exchange.jobs.JobProcessingTest.upload;
import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * No row of an upload goes unaccounted for: every row read is translated or skipped with a reason, the counts the
 * job answers add up, and a file that cannot be read to its end (a quote never closed, a gzip stream cut short)
 * never passes for a shorter one.
 */
class RowAccountingTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"phone\",\"type\":\"phone\"},"
            + "{\"name\":\"cookieId\"}]";
    private static final String MAPPINGS = "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"phone\":\"PHONE_SHA256\"},"
            + "\"attributeMappings\":{\"firstName\":\"firstName\"}";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64, JobSettings.DEFAULT);
        TestAccount acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull",
                "[{\"name\":\"workEmail\",\"type\":\"email\"}]"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static long newExport() {
        return create(source, export(source, destination, MAPPINGS, false));
    }

    private static void assertCountsAddUp(JsonNode job) {
        long skippedByReason = 0;
        for (JsonNode n : job.get("skippedRecords")) {
            skippedByReason += n.asLong();
        }
        assertThat(job.get("skippedRecordCount").asLong()).as(job.toString()).isEqualTo(skippedByReason);
        assertThat(job.get("sourceRecordCount").asLong()).as(job.toString())
                .isEqualTo(job.get("translatedRecordCount").asLong() + job.get("skippedRecordCount").asLong());
    }

    @Test
    void everyRowOfAnExportIsTranslatedOrSkippedWithItsReason() {
        long jobId = newExport();
        StringBuilder csv = new StringBuilder("email,phone,cookieId,firstName\n");
        csv.append("ann@example.com,,,Ann\n");          // 2: translated
        csv.append(",+14155550100,,Bob\n");              // 3: translated
        csv.append("short,row\n");                       // 4: wrong column count
        csv.append("a,b,c,d,e\n");                       // 5: wrong column count
        csv.append(" , , ,Nobody\n");                    // 6: no identifier value
        csv.append(",12345,,Carl\n");                    // 7: not a phone number
        csv.append(",,c-9,Dan\n");                       // 8: an identifier, but none the mappings read
        csv.append("\"eve@example.com\",,,\"Eve, Jr.\"\n"); // 9: translated
        for (int i = 0; i < 1000; i++) {
            csv.append("p").append(i).append("@example.com,,,P\n");
        }
        upload(source, jobId, csv.toString());

        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(1008);
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(1003);
        assertThat(job.get("skippedRecordCount").asLong()).isEqualTo(5);
        assertThat(job.get("skippedRecords").toString()).isEqualTo("{\"wrongColumnCount\":2,\"noIdentifierValue\":1,"
                + "\"invalidIdentifierValue\":1,\"noMappedIdentifierValue\":1}");
        assertCountsAddUp(job);
        assertThat(job.get("errorDetails").asText()).contains("4 rows were skipped").contains("line 4:")
                .contains("line 5:").contains("line 6:").contains("line 7:");
    }

    @Test
    void anImportCountsRowsTheIdentityStoreRejects() {
        TestAccount other = ExchangeAccounts.account(server, "Importer");
        TestEndpoint from = ExchangeAccounts.endpoint(server, other, registration("CRM", "source", "push",
                "[{\"name\":\"email\",\"type\":\"email\",\"unique\":true},{\"name\":\"cookieId\"}]"));
        ExchangeClient.Answer created = from.client().post("/v1/jobs/identityImport",
                "{\"producerEndpointID\":" + from.endpointId() + ",\"producerSegmentID\":1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long jobId = created.json().get("jobId").asLong();
        upload(from, jobId, "email,cookieId\nann@example.com,a1\nbad,row,extra\n,\nbob@example.com,b1\n");
        JsonNode job = awaitStatus(from.client(), "IDENTITY_IMPORT", jobId, "COMPLETE");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(4);
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(2);
        assertThat(job.get("skippedRecords").toString()).isEqualTo("{\"wrongColumnCount\":1,\"noIdentifierValue\":1}");
        assertCountsAddUp(job);
    }

    @Test
    void aQuoteNeverClosedFailsTheJobNamingTheLineItOpensOn() {
        long jobId = newExport();
        StringBuilder csv = new StringBuilder("email,phone,cookieId,firstName\n");
        for (int i = 0; i < 2000; i++) {
            // the quote of line 1503 is never closed: FastCSV would read the 499 rows after it as one field
            csv.append("p").append(i).append("@example.com,,,").append(i == 1501 ? "\"Ann" : "P").append('\n');
        }
        upload(source, jobId, csv.toString());
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        assertThat(job.get("errorDetails").asText()).contains("a quote opened in the row at line 1503 is never closed");
        assertThat(job.get("segmentDataFiles")).isEmpty();
    }

    @Test
    void aQuoteNeverClosedInTheLastColumnOfTheLastRowStillFailsTheJob() {
        long jobId = newExport();
        upload(source, jobId, "email,phone,cookieId,firstName\nann@example.com,,,Ann\nbob@example.com,,,\"Bob\n");
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        assertThat(job.get("errorDetails").asText()).contains("a quote opened in the row at line 3 is never closed");
    }

    @Test
    void aTruncatedGzipUploadIsRefusedAndTheJobTakesANewOne() throws IOException {
        long jobId = newExport();
        byte[] whole = gzip(rows(20_000)); // more than the 64 KiB the upload check reads, once inflated
        byte[] cut = Arrays.copyOf(whole, whole.length - 20);
        ExchangeClient.Answer refused = source.client().upload("/v1/jobs/" + jobId + "/data", cut, true);
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.message()).contains("The gzip stream ends early");
        assertThat(status(jobId)).isEqualTo("WAITING_TO_RECIEVE_DATA");

        ExchangeClient.Answer accepted = source.client().upload("/v1/jobs/" + jobId + "/data", whole, true);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(200);
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(20_000);
        assertCountsAddUp(job);
    }

    @Test
    void aCorruptGzipUploadIsRefusedAndTheJobStillWaits() throws IOException {
        long jobId = newExport();
        byte[] corrupt = gzip(rows(20_000));
        corrupt[corrupt.length - 6] ^= 0x5A; // the trailer's CRC no longer matches
        ExchangeClient.Answer refused = source.client().upload("/v1/jobs/" + jobId + "/data", corrupt, true);
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.message()).contains("The gzip data is corrupt");
        assertThat(status(jobId)).isEqualTo("WAITING_TO_RECIEVE_DATA");
    }

    private static String status(long jobId) {
        return source.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0).get("status").asText();
    }

    private static String rows(int n) {
        StringBuilder csv = new StringBuilder("email,phone,cookieId,firstName\n");
        for (int i = 0; i < n; i++) {
            csv.append("p").append(i).append("@example.com,,,P\n");
        }
        return csv.toString();
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}
