package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;
import com.fasterxml.jackson.databind.JsonNode;
import idex.store.OwnerOnly;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static idex.exchange.jobs.JobProcessingTest.awaitStatus;
import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Job files hold identifiers of people: the files directory and everything the server creates in it is owner-only
 * (directories rwx------, files rw-------), and a files directory that another account can write is refused.
 */
class OwnerOnlyJobFilesTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";

    @ParameterizedTest(name = "direct I/O wanted: {0}")
    @ValueSource(booleans = {true, false})
    void everyDirectoryAndFileOfASegmentExportIsOwnerOnly(boolean directIo, @TempDir Path dir) throws IOException {
        Path filesDir = dir.resolve("files"); // created by the server
        try (TestServer server = TestServer.start(dir.resolve("data"), 64,
                JobSettings.DEFAULT.withRowsPerFile(2).withDirectIo(directIo), filesDir)) {
            TestAccount acme = ExchangeAccounts.account(server, "Acme");
            TestEndpoint source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
            TestEndpoint destination = ExchangeAccounts.endpoint(server, acme,
                    registration("Ads", "destination", "pull", IDS));
            ExchangeClient src = source.client();
            ExchangeClient.Answer created = src.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                    + source.endpointId() + ",\"producerSegmentID\":1,\"destinationEndpointID\":"
                    + destination.endpointId() + ",\"destinationSegmentName\":\"seg\",\"shareAction\":\"ADD\","
                    + "\"updateIdentities\":false,\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"}}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            long jobId = created.json().get("jobId").asLong();
            ExchangeClient.Answer uploaded = src.upload("/v1/jobs/" + jobId + "/data", ("email,cookieId\n"
                    + "ann@example.com,c1\nbob@example.com,c2\ncy@example.com,c3\n").getBytes(StandardCharsets.UTF_8),
                    false);
            assertThat(uploaded.status()).as(uploaded.body()).isEqualTo(200);
            JsonNode ready = awaitStatus(destination.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
            assertThat(ready.get("segmentDataFiles")).hasSize(2);

            Assumptions.assumeTrue(OwnerOnly.posix(filesDir), "the files directory has POSIX permissions");
            Map<Path, PosixFileAttributes> found = walk(filesDir);
            List<Path> files = new ArrayList<>();
            found.forEach((path, a) -> {
                String mode = PosixFilePermissions.toString(a.permissions());
                if (a.isDirectory()) {
                    assertThat(mode).as("directory %s", path).isEqualTo("rwx------");
                } else {
                    assertThat(a.isRegularFile()).as("%s is a regular file", path).isTrue();
                    assertThat(mode).as("file %s", path).isEqualTo("rw-------");
                    files.add(filesDir.relativize(path));
                }
            });
            assertThat(found).containsKeys(filesDir, filesDir.resolve("jobs"), filesDir.resolve("jobs/" + jobId),
                    filesDir.resolve("jobs/" + jobId + "/files"));
            Path output = Path.of("jobs", Long.toString(jobId), "files");
            List<Path> segmentFiles = new ArrayList<>();
            ready.get("segmentDataFiles").forEach(n -> segmentFiles.add(output.resolve(n.asText())));
            // the accepted upload may still be there (it is removed just after the job turns ready): checked if seen
            assertThat(files).as("the segment data files were looked at").containsAll(segmentFiles)
                    .allSatisfy(f -> assertThat(f.startsWith(Path.of("jobs", Long.toString(jobId)))).isTrue());
        }
    }

    @Test
    void aFilesDirectoryThatOthersCanWriteIsRefusedAtStart(@TempDir Path dir) throws IOException {
        Path filesDir = Files.createDirectory(dir.resolve("shared-files"));
        Assumptions.assumeTrue(OwnerOnly.posix(filesDir), "the files directory has POSIX permissions");
        Files.setPosixFilePermissions(filesDir, PosixFilePermissions.fromString("rwxrwxrwx"));

        assertThatThrownBy(() -> TestServer.start(dir.resolve("data"), 64, JobSettings.DEFAULT, filesDir).close())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(filesDir.toAbsolutePath().normalize().toString())
                .hasMessageContaining("writable by other users")
                .hasMessageContaining("chmod 700");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(filesDir)))
                .as("left as it was: the operator decides").isEqualTo("rwxrwxrwx");
        try (Stream<Path> inside = Files.list(filesDir)) {
            assertThat(inside).as("nothing written into it").isEmpty();
        }
    }

    /** Every directory and file under `root` (itself included) with its attributes, in walk order. */
    private static Map<Path, PosixFileAttributes> walk(Path root) throws IOException {
        Map<Path, PosixFileAttributes> found = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                try {
                    found.put(p, Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
                } catch (NoSuchFileException removedMeanwhile) {
                    // the accepted upload, removed after the job turned ready
                }
            }
        }
        return found;
    }
}
