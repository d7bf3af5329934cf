package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;
import com.fasterxml.jackson.databind.JsonNode;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Exports are processed while their upload arrives; an upload that does not make it leaves nothing of that work:
 * the job keeps waiting, the run's files are gone, and the next upload's export is exactly its own rows.
 */
class FollowedUploadTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64, JobSettings.DEFAULT.withRowsPerFile(10_000));
        TestAccount acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static long waitingExport() {
        return JobProcessingTest.create(source, JobProcessingTest.export(source, destination,
                "\"identityMappings\":{\"cookieId\":\"cookieId\"}", false));
    }

    private static String rows(String prefix, int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) {
            b.append(prefix).append(i).append("@example.com,").append(prefix).append(i).append('\n');
        }
        return b.toString();
    }

    private static List<String> outputDirFiles(long jobId) throws IOException {
        Path out = server.filesDir().resolve("jobs/" + jobId + "/files");
        if (!Files.isDirectory(out)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anUploadCutOffMidwayLeavesNothingOfItsProcessing() throws Exception {
        long jobId = waitingExport();
        // 60,000 rows arrive (several segment files' worth, processed as they come), then the client gives up
        byte[] sent = ("email,cookieId\n" + rows("cut", 0, 60_000)).getBytes(StandardCharsets.UTF_8);
        InputStream cutOff = new SequenceInputStream(new ByteArrayInputStream(sent), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("the client gave up");
            }
        });
        catchThrowable(() -> source.client().upload("/v1/jobs/" + jobId + "/data", () -> cutOff));

        assertThat(JobProcessingTest.awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "WAITING_TO_RECIEVE_DATA")
                .get("sourceRecordCount").asLong()).isZero();
        Eventually.await("the cut-off run's files to go", () -> {
            try {
                return outputDirFiles(jobId);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, List::isEmpty);

        JobProcessingTest.upload(source, jobId, "email,cookieId\n" + rows("kept", 0, 25_000));
        JsonNode job = JobProcessingTest.awaitStatus(destination.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(25_000);
        assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(25_000);
        List<String> registered = new ArrayList<>();
        job.get("segmentDataFiles").forEach(n -> registered.add(n.asText()));
        assertThat(registered).hasSize(3);
        assertThat(outputDirFiles(jobId)).containsExactlyInAnyOrderElementsOf(registered);
        List<String> lines = new ArrayList<>();
        for (String name : registered) {
            lines.addAll(Files.readAllLines(server.filesDir().resolve("jobs/" + jobId + "/files/" + name)));
        }
        assertThat(lines.stream().filter(l -> !l.equals("cookieId")).toList())
                .isEqualTo(rows("kept", 0, 25_000).lines().map(l -> l.substring(l.indexOf(',') + 1)).toList());
    }

    @Test
    void dataThatTurnsBadPastTheUploadCheckEndsTheJobInErrorWithNoFilesLeft() throws Exception {
        long jobId = waitingExport();
        // Valid CSV for more than the 64 KiB the upload check reads, then bytes that are not UTF-8 on line 20002.
        byte[] head = ("email,cookieId\n" + rows("bad", 0, 20_000)).getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 3];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xC3;
        body[head.length + 1] = (byte) 0x28;
        body[head.length + 2] = '\n';
        assertThat(source.client().upload("/v1/jobs/" + jobId + "/data", body, false).status()).isEqualTo(200);

        JsonNode failed = JobProcessingTest.awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        String details = failed.get("errorDetails").asText();
        assertThat(details).startsWith("The uploaded file is not valid UTF-8 after line ");
        // "after": the decoder reads ahead of the parser, so the line named is at or before the bad one
        assertThat(Long.parseLong(details.replaceAll(".*after line (\\d+).*", "$1"))).isBetween(15_000L, 20_001L);
        assertThat(outputDirFiles(jobId)).isEmpty();
    }
}
