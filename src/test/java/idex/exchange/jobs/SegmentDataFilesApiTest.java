package idex.exchange.jobs;

import idex.exchange.jobs.store.JobFiles;
import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.OpenApiDocument;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.ReadyJobs.csv;
import static idex.support.ReadyJobs.files;
import static idex.support.ReadyJobs.readyExport;
import static idex.support.ReadyJobs.waitingExport;
import static org.assertj.core.api.Assertions.assertThat;

/** Downloading and deleting a pull destination's segment data files, and completion removing them (spec §4.4). */
class SegmentDataFilesApiTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint source;
    static TestEndpoint destination;
    static TestEndpoint otherDestination;
    static TestAccount other;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
        otherDestination = ExchangeAccounts.endpoint(server, acme, registration("Mail", "destination", "pull", IDS));
        other = ExchangeAccounts.account(server, "Other");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A GET's status, headers and body bytes. */
    private record Fetched(int status, HttpResponse<byte[]> response) {
        byte[] body() {
            return response.body();
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    private static Fetched fetch(TestEndpoint who, String path, String... headers) {
        return fetch(who.client().key(), path, headers);
    }

    private static Fetched fetch(String key, String path, String... headers) {
        return send("GET", key, path, headers);
    }

    private static Fetched send(String method, String key, String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(path)))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            HttpRequest request = b.build();
            HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
            OpenApiDocument.check(request, r);
            return new Fetched(r.statusCode(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String path(long jobId, String name) {
        return "/v1/jobs/" + jobId + "/segmentDataFiles/" + name;
    }

    private static JsonNode job(long jobId) {
        return acme.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
    }

    @Test
    void theWholeFileAndItsRangesComeBackByteForByte() {
        byte[] content = csv(500, 1);
        long jobId = readyExport(server, source, destination, files("part-0001.csv", content, "part-0002.csv", csv(3, 2)));
        assertThat(job(jobId).get("segmentDataFiles").toString()).isEqualTo("[\"part-0001.csv\",\"part-0002.csv\"]");
        assertThat(job(jobId).get("segmentDataFormat").asText()).isEqualTo("text/csv");

        Fetched whole = fetch(destination, path(jobId, "part-0001.csv"));
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(content);
        assertThat(whole.header("Content-Type")).isEqualTo("text/csv; charset=utf-8");
        assertThat(whole.header("Content-Length")).isEqualTo(Integer.toString(content.length));
        assertThat(whole.header("Accept-Ranges")).isEqualTo("bytes");
        String etag = whole.header("ETag");
        assertThat(etag).startsWith("\"").endsWith("\"");
        assertThat(fetch(acme.client().key(), path(jobId, "part-0001.csv")).body()).as("account key").isEqualTo(content);

        int size = content.length;
        assertRange(jobId, "bytes=0-99", content, 0, 99);
        assertRange(jobId, "bytes=100-199", content, 100, 199);
        assertRange(jobId, "bytes=-50", content, size - 50, size - 1);
        assertRange(jobId, "bytes=1000-", content, 1000, size - 1);
        assertRange(jobId, "bytes=10-99999999", content, 10, size - 1);
        assertRange(jobId, "bytes=-99999999", content, 0, size - 1);
        assertRange(jobId, "bytes=" + (size - 1) + "-" + (size - 1), content, size - 1, size - 1);
        // Positions past what 64 bits hold are still positions: to the end of the file, the whole file.
        assertRange(jobId, "bytes=10-99999999999999999999", content, 10, size - 1);
        assertRange(jobId, "bytes=-99999999999999999999", content, 0, size - 1);

        Fetched matching = fetch(destination, path(jobId, "part-0001.csv"), "Range", "bytes=5-9", "If-Range", etag);
        assertThat(matching.status()).isEqualTo(206);
        assertThat(matching.body()).isEqualTo(Arrays.copyOfRange(content, 5, 10));
        Fetched stale = fetch(destination, path(jobId, "part-0001.csv"), "Range", "bytes=5-9", "If-Range", "\"other\"");
        assertThat(stale.status()).as("a changed validator gets the whole file").isEqualTo(200);
        assertThat(stale.body()).isEqualTo(content);
        for (String ignored : new String[]{"bytes=0-1,5-6", "bytes=9-5", "items=0-5", "bytes=x-"}) {
            Fetched f = fetch(destination, path(jobId, "part-0001.csv"), "Range", ignored);
            assertThat(f.status()).as(ignored).isEqualTo(200);
            assertThat(f.body()).as(ignored).isEqualTo(content);
        }
    }

    private static void assertRange(long jobId, String range, byte[] content, int first, int last) {
        Fetched f = fetch(destination, path(jobId, "part-0001.csv"), "Range", range);
        assertThat(f.status()).as(range).isEqualTo(206);
        assertThat(f.header("Content-Range")).as(range).isEqualTo("bytes " + first + "-" + last + "/" + content.length);
        assertThat(f.header("Content-Length")).as(range).isEqualTo(Integer.toString(last - first + 1));
        assertThat(f.body()).as(range).isEqualTo(Arrays.copyOfRange(content, first, last + 1));
    }

    @Test
    void aRangeOutsideTheFileIs416WithItsSize() {
        byte[] content = csv(10, 3);
        long jobId = readyExport(server, source, destination, files("f.csv", content));
        for (String range : new String[]{"bytes=" + content.length + "-", "bytes=999999-1000000", "bytes=-0",
                "bytes=99999999999999999999-", "bytes=9223372036854775808-", "bytes=99999999999999999999-99999999999999999999"}) {
            Fetched f = fetch(destination, path(jobId, "f.csv"), "Range", range);
            assertThat(f.status()).as(range).isEqualTo(416);
            assertThat(f.header("Content-Range")).as(range).isEqualTo("bytes */" + content.length);
        }
    }

    /** Download tools probe with HEAD: GET's status and headers, Content-Length included, and no body. */
    @Test
    void headAnswersWhatGetWouldWithoutTheBody() {
        byte[] content = csv(300, 11);
        long jobId = readyExport(server, source, destination, files("h.csv", content));
        String key = destination.client().key();
        String[][] cases = {{}, {"Range", "bytes=10-19"}, {"Range", "bytes=-5"}, {"Range", "bytes=" + content.length + "-"}};
        for (String[] headers : cases) {
            Fetched get = send("GET", key, path(jobId, "h.csv"), headers);
            Fetched head = send("HEAD", key, path(jobId, "h.csv"), headers);
            String what = headers.length == 0 ? "whole file" : headers[1];
            assertThat(head.status()).as(what).isEqualTo(get.status());
            for (String h : new String[]{"Content-Length", "Accept-Ranges", "Content-Range", "ETag", "Content-Type"}) {
                assertThat(head.header(h)).as(what + " " + h).isEqualTo(get.header(h));
            }
            assertThat(head.body()).as(what).isEmpty();
        }
        assertThat(send("HEAD", key, path(jobId, "h.csv")).header("Content-Length"))
                .isEqualTo(Integer.toString(content.length));
        assertThat(send("HEAD", key, path(jobId, "h.csv")).header("Accept-Ranges")).isEqualTo("bytes");
        assertThat(send("HEAD", key, path(jobId, "nope.csv")).status()).isEqualTo(404);
        assertThat(send("HEAD", null, path(jobId, "h.csv")).status()).isEqualTo(401);
        assertThat(fetch(destination, path(jobId, "h.csv")).body()).as("HEAD changes nothing").isEqualTo(content);
    }

    @Test
    void aCutDownloadResumesToIdenticalBytesAndALargeFileStreams() throws Exception {
        byte[] content = csv(110_000, 4); // about 8 MB
        assertThat(content.length).isGreaterThan(8_000_000);
        long jobId = readyExport(server, source, destination, files("big.csv", content));

        HttpRequest first = HttpRequest.newBuilder(URI.create(server.url(path(jobId, "big.csv"))))
                .header("Authorization", "Bearer " + destination.client().key()).GET().build();
        HttpResponse<InputStream> cut = HTTP.send(first, HttpResponse.BodyHandlers.ofInputStream());
        OpenApiDocument.check(first, cut); // status and content type: the body is read below, and cut off
        assertThat(cut.statusCode()).isEqualTo(200);
        String etag = cut.headers().firstValue("ETag").orElseThrow();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (InputStream in = cut.body()) {
            received.write(in.readNBytes(1_234_567)); // then the connection is dropped mid-file
        }
        Fetched rest = fetch(destination, path(jobId, "big.csv"), "Range", "bytes=" + received.size() + "-", "If-Range", etag);
        assertThat(rest.status()).isEqualTo(206);
        assertThat(rest.header("Content-Range")).isEqualTo("bytes 1234567-" + (content.length - 1) + "/" + content.length);
        received.write(rest.body());
        assertThat(received.toByteArray()).isEqualTo(content);

        assertThat(fetch(destination, path(jobId, "big.csv")).body()).isEqualTo(content);
    }

    @Test
    void onlyTheDestinationOrTheAccountSeesTheFiles() {
        long jobId = readyExport(server, source, destination, files("a.csv", csv(2, 5)));
        Fetched producer = fetch(source, path(jobId, "a.csv"));
        assertThat(producer.status()).isEqualTo(403);
        assertThat(new String(producer.body())).contains("destination endpoint or an account-level key");
        assertThat(fetch(otherDestination, path(jobId, "a.csv")).status()).as("another endpoint").isEqualTo(404);
        assertThat(fetch(other.client().key(), path(jobId, "a.csv")).status()).as("another account").isEqualTo(404);
        assertThat(fetch((String) null, path(jobId, "a.csv")).status()).isEqualTo(401);
        assertThat(other.client().delete(path(jobId, "a.csv")).status()).isEqualTo(404);
        assertThat(source.client().delete(path(jobId, "a.csv")).status()).isEqualTo(403);
        assertThat(otherDestination.client().delete(path(jobId, "a.csv")).status()).isEqualTo(404);
        assertThat(fetch(destination, path(jobId, "a.csv")).status()).as("nothing was deleted").isEqualTo(200);
    }

    @Test
    void unknownJobsAndFilesAre404AndAJobNotReadyIs409() throws Exception {
        long jobId = readyExport(server, source, destination, files("a.csv", csv(2, 6)));
        Fetched unknownFile = fetch(destination, path(jobId, "b.csv"));
        assertThat(unknownFile.status()).isEqualTo(404);
        assertThat(new String(unknownFile.body())).contains("segmentDataFiles");
        assertThat(fetch(destination, path(987_654_321, "a.csv")).status()).isEqualTo(404);
        assertThat(fetch(destination, path(jobId, "..%2F..%2Fetc%2Fpasswd")).status()).isEqualTo(404);
        // A name no file system takes is an error of the request, answered like any other.
        for (String method : new String[]{"GET", "DELETE"}) {
            Fetched nul = send(method, destination.client().key(), path(jobId, "a%00.csv"));
            assertThat(nul.status()).as(method).isIn(400, 404);
            assertThat(nul.header("Content-Type")).as(method).isEqualTo("application/json");
            assertThat(Json.MAPPER.readTree(nul.body()).path("message").asText()).as(method).isNotBlank();
        }
        // a file on disk that the job does not list is not served
        Files.write(new JobFiles(server.filesDir()).outputFile(jobId, "unlisted.csv"), csv(1, 7));
        assertThat(fetch(destination, path(jobId, "unlisted.csv")).status()).isEqualTo(404);
        assertThat(destination.client().delete(path(jobId, "b.csv")).status()).isEqualTo(404);
        assertThat(destination.client().post(path(jobId, "a.csv"), "{}").status()).isEqualTo(405);

        long waiting = waitingExport(source, destination);
        ExchangeClient.Answer notReady = destination.client().get(path(waiting, "a.csv"));
        assertThat(notReady.status()).isEqualTo(409);
        assertThat(notReady.message()).contains("WAITING_TO_RECIEVE_DATA, not READY_FOR_DOWNLOAD");
    }

    @Test
    void aDeletedFileIsGoneFromDiskAndFromTheJob() {
        long jobId = readyExport(server, source, destination, files("a.csv", csv(2, 8), "b.csv", csv(2, 9)));
        Path a = new JobFiles(server.filesDir()).outputFile(jobId, "a.csv");
        ExchangeClient.Answer deleted = destination.client().delete(path(jobId, "a.csv"));
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.body()).isEqualTo("true");
        assertThat(deleted.contentType()).startsWith("application/json");
        assertThat(fetch(destination, path(jobId, "a.csv")).status()).isEqualTo(404);
        assertThat(destination.client().delete(path(jobId, "a.csv")).status()).as("only once").isEqualTo(404);
        assertThat(Files.exists(a)).isFalse();
        assertThat(job(jobId).get("segmentDataFiles").toString()).isEqualTo("[\"b.csv\"]");
        assertThat(acme.client().delete(path(jobId, "b.csv")).body()).as("account key").isEqualTo("true");
        assertThat(job(jobId).get("segmentDataFiles").isNull()).isTrue();
        assertThat(job(jobId).get("status").asText()).as("deleting files does not complete the job")
                .isEqualTo("READY_FOR_DOWNLOAD");
    }

    @Test
    void completingTheJobRemovesItsRemainingFiles() {
        long jobId = readyExport(server, source, destination, files("a.csv", csv(2, 10), "b.csv", csv(2, 11)));
        Path outputDir = new JobFiles(server.filesDir()).outputDir(jobId);
        assertThat(fetch(destination, path(jobId, "a.csv")).status()).isEqualTo(200);
        assertThat(source.client().put("/v1/jobs/" + jobId + "/status/complete", null).status()).isEqualTo(403);
        assertThat(destination.client().put("/v1/jobs/" + jobId + "/status/complete", null).body()).isEqualTo("true");
        assertThat(Files.exists(outputDir)).isFalse();
        JsonNode job = job(jobId);
        assertThat(job.get("status").asText()).isEqualTo("COMPLETE");
        assertThat(job.get("segmentDataFiles").isNull()).isTrue();
        ExchangeClient.Answer after = destination.client().get(path(jobId, "b.csv"));
        assertThat(after.status()).isEqualTo(409);
        assertThat(after.message()).contains("completed");
        assertThat(destination.client().put("/v1/jobs/" + jobId + "/status/complete", null).body()).as("only once")
                .isEqualTo("false");
    }
}
