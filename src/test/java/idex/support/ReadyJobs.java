package idex.support;

import idex.exchange.jobs.store.JobFiles;
import idex.support.ExchangeAccounts.TestEndpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Segment exports made ready for download without the processor: the job is created through the API, then moved
 * from WAITING_TO_RECIEVE_DATA straight to READY_FOR_DOWNLOAD with its files registered, as a processing run's final
 * transaction does. Never through PENDING, so that no processor picks the job up meanwhile.
 */
public final class ReadyJobs {

    private ReadyJobs() {
    }

    /** A waiting segment export from `source` to `destination`, mapping email to the destination's workEmail. */
    public static long waitingExport(TestEndpoint source, TestEndpoint destination) {
        ExchangeClient.Answer a = source.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + source.endpointId() + ",\"producerSegmentID\":1,\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"test\",\"shareAction\":\"ADD\","
                + "\"updateIdentities\":false,\"identityMappings\":{\"email\":\"EMAIL_SHA256\"},\"attributeMappings\":{}}");
        if (a.status() != 201) {
            throw new IllegalStateException("job creation failed: " + a.status() + " " + a.body());
        }
        return a.json().get("jobId").asLong();
    }

    /** A segment export in READY_FOR_DOWNLOAD holding `files` (name → content), listed in that order. */
    public static long readyExport(TestServer server, TestEndpoint source, TestEndpoint destination,
                                   Map<String, byte[]> files) {
        long jobId = waitingExport(source, destination);
        Path dir = new JobFiles(server.filesDir()).outputDir(jobId);
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(dir.resolve(f.getKey()), f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.database().jdbi().useTransaction(h -> {
            int moved = h.createUpdate("UPDATE exchange_job SET status = 'READY_FOR_DOWNLOAD', destination_record_count = :n"
                            + " WHERE job_id = :id AND status = 'WAITING_TO_RECIEVE_DATA'")
                    .bind("id", jobId).bind("n", files.size()).execute();
            if (moved != 1) {
                throw new IllegalStateException("job " + jobId + " was not waiting");
            }
            int seq = 0;
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                h.createUpdate("INSERT INTO exchange_job_file (job_id, file_name, seq, row_count, byte_count)"
                                + " VALUES (:id, :name, :seq, :n, :bytes)")
                        .bind("id", jobId).bind("name", f.getKey()).bind("seq", seq++)
                        .bind("n", lines(f.getValue())).bind("bytes", (long) f.getValue().length).execute();
            }
        });
        return jobId;
    }

    /** CSV content: a header and `rows` data rows of about 75 bytes each. */
    public static byte[] csv(int rows, int seed) {
        StringBuilder b = new StringBuilder("EMAIL_SHA256,firstName\n");
        for (int i = 0; i < rows; i++) {
            b.append(String.format("%064x", (long) seed * 1_000_003L + i)).append(",name").append(i).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static Map<String, byte[]> files(Object... nameThenContent) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < nameThenContent.length; i += 2) {
            files.put((String) nameThenContent[i], (byte[]) nameThenContent[i + 1]);
        }
        return files;
    }

    private static long lines(byte[] content) {
        long n = 0;
        for (byte b : content) {
            if (b == '\n') {
                n++;
            }
        }
        return Math.max(0, n - 1);
    }
}
