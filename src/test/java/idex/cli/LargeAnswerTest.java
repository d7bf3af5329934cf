package idex.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import idex.support.TestServer;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.envelope.ResponseEncryptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static idex.cli.EncryptCommandTest.SECRET;
import static idex.cli.EncryptCommandTest.SECRET_TEXT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `idex decrypt` and `idex request` in a child JVM with a 64 MB heap, on answers larger than that heap: they must
 * stream (the launcher runs them with -Xmx320m, and a full bucket list is ~95 MB of base64).
 */
class LargeAnswerTest {
    private static final String HEAP = "-Xmx64m";
    /**
     * A smaller heap for the bucket list, whose creation is slow (about a minute for 262,144 buckets on a loaded
     * machine): 65,536 buckets are ~6 MB of base64, which a client that holds the answer cannot print in 16 MB.
     */
    private static final String SMALL_HEAP = "-Xmx16m";

    @TempDir
    Path dir;

    @Test
    void decryptsA200MbAnswerIn64MbOfHeap() throws Exception {
        Path answer = dir.resolve("answer.b64");
        MessageDigest plain = sha256();
        long plainLength;
        try (OutputStream file = Files.newOutputStream(answer);
             EncryptingStream encrypting = new EncryptingStream(file);
             DigestOutputStream digesting = new DigestOutputStream(encrypting, plain)) {
            plainLength = writeBuckets(digesting, 200_000_000);
            file.flush();
        }
        plain.update((byte) '\n'); // the printed JSON ends with a line break
        assertThat(Files.size(answer)).isGreaterThan(260_000_000L);

        ChildRun run = ChildRun.start(HEAP, answer, "decrypt", SECRET_TEXT);
        MessageDigest printed = sha256();
        long printedLength = run.readStdout(printed::update);
        run.finish();

        assertThat(run.exitCode).as(run.stderr).isZero();
        assertThat(printedLength).isEqualTo(plainLength + 1);
        assertThat(HexFormat.of().formatHex(printed.digest())).isEqualTo(HexFormat.of().formatHex(plain.digest()));
        System.out.printf("decrypt of %d MB: child peak RSS %d MB with %s%n", plainLength >> 20, run.peakRssKb >> 10,
                HEAP);
    }

    @Test
    void aTamperedLargeAnswerExitsNonZeroAfterTheOutput() throws Exception {
        Path answer = dir.resolve("answer.b64");
        try (OutputStream file = Files.newOutputStream(answer);
             EncryptingStream encrypting = new EncryptingStream(file)) {
            writeBuckets(encrypting, 20_000_000);
        }
        // One character of the base64 text changed (to another valid one), near the middle.
        try (var channel = java.nio.channels.FileChannel.open(answer, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            long middle = channel.size() / 2;
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, middle);
            byte changed = (byte) (one.get(0) == 'A' ? 'B' : 'A');
            channel.write(java.nio.ByteBuffer.wrap(new byte[]{changed}), middle);
        }

        ChildRun run = ChildRun.start(HEAP, answer, "decrypt", SECRET_TEXT);
        long printedLength = run.readStdout((b, off, len) -> { });
        run.finish();

        assertThat(run.exitCode).isEqualTo(1);
        // The JSON is printed up to the changed byte, where it no longer parses; the tag is checked all the same.
        assertThat(printedLength).isGreaterThan(9_000_000L);
        assertThat(run.stderr).contains("authentication failed", "the output printed above is not to be trusted");
    }

    @Test
    void requestsABucketListLargerThanItsHeap() throws Exception {
        int buckets = 65_536;
        try (TestServer server = TestServer.start(dir.resolve("data"), buckets)) {
            IssuedClientKey key = server.createMapperKey();
            Path request = dir.resolve("request.json");
            Files.writeString(request, "{\"since_timestamp\":\"2000-01-01T00:00:00\"}\n");

            ChildRun run = ChildRun.start(SMALL_HEAP, request, "request", server.url("/v2/identity/buckets"), key.key(),
                    key.secret());
            long[] bucketIds = new long[1];
            long[] lines = new long[1];
            run.readStdoutLines(line -> {
                lines[0]++;
                if (line.startsWith("    \"bucket_id\" : \"")) {
                    bucketIds[0]++;
                }
            });
            run.finish();

            assertThat(run.exitCode).as(run.stderr).isZero();
            assertThat(bucketIds[0]).isEqualTo(buckets);
            assertThat(lines[0]).isEqualTo(3L * buckets + 4); // two lines per bucket and one between them
            System.out.printf("request of %d buckets: child peak RSS %d MB with %s%n", buckets,
                    run.peakRssKb >> 10, SMALL_HEAP);
        }
    }

    /**
     * A bucket list as the server answers it, already in the tools' pretty format (so that the printed output is
     * the plaintext again), until at least {@code size} bytes.
     */
    private static long writeBuckets(OutputStream out, long size) throws IOException {
        CountingStream counting = new CountingStream(out);
        try (JsonGenerator json = new JsonFactory().createGenerator(counting).useDefaultPrettyPrinter()) {
            json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            json.writeStartObject();
            json.writeArrayFieldStart("body");
            for (long i = 0; counting.count < size; i++) {
                json.writeStartObject();
                json.writeStringField("bucket_id", "b" + Long.toString(i, 36));
                json.writeStringField("last_updated", "2026-08-17T00:00:00.001");
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeStringField("status", "success");
            json.writeEndObject();
        }
        return counting.count;
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }

    /** The server's own streaming encryptor, as an OutputStream writing base64 text. */
    private static final class EncryptingStream extends OutputStream {
        private final OutputStream out;
        private final ResponseEncryptor encryptor = new ResponseEncryptor(SECRET, new byte[8],
                System.currentTimeMillis(), true);
        private boolean closed;

        EncryptingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(encryptor.update(b, off, len));
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            out.write(encryptor.finish());
            out.write('\n'); // as a saved answer often ends
            out.flush();
        }
    }

    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        long count;

        CountingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    private interface Bytes {
        void accept(byte[] b, int off, int len);
    }

    /** `java -Xmx… idex.Main …` with stdin from a file; stdout read by the test, stderr kept. */
    private static final class ChildRun {
        private final Process process;
        private final Path stderrFile;
        int exitCode;
        String stderr;
        long peakRssKb = -1;

        private ChildRun(Process process, Path stderrFile) {
            this.process = process;
            this.stderrFile = stderrFile;
        }

        static ChildRun start(String heap, Path stdin, String... args) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(List.of(java, heap, "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), "idex.Main"));
            command.addAll(List.of(args));
            Path stderrFile = Files.createTempFile("idex-child", ".err");
            Process process = new ProcessBuilder(command)
                    .redirectInput(stdin.toFile())
                    .redirectError(stderrFile.toFile())
                    .start();
            return new ChildRun(process, stderrFile);
        }

        long readStdout(Bytes sink) throws IOException {
            long total = 0;
            byte[] buffer = new byte[64 * 1024];
            try (InputStream out = process.getInputStream()) {
                for (int n; (n = out.read(buffer)) >= 0; ) {
                    sink.accept(buffer, 0, n);
                    if ((total >> 22) != ((total + n) >> 22)) {
                        recordPeakRss();
                    }
                    total += n;
                }
            }
            return total;
        }

        void readStdoutLines(java.util.function.Consumer<String> sink) throws IOException {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                long count = 0;
                for (String line; (line = out.readLine()) != null; ) {
                    sink.accept(line);
                    if (++count % 50_000 == 0) {
                        recordPeakRss();
                    }
                }
            }
        }

        /**
         * The child's resident-memory high-water mark so far, sampled as its output comes (once it has exited, the
         * kernel no longer tells). Linux only; informative: the heap bound is what the test relies on.
         */
        private void recordPeakRss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        peakRssKb = Math.max(peakRssKb, Long.parseLong(line.replaceAll("[^0-9]", "")));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone already, or not Linux
            }
        }

        void finish() throws Exception {
            assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("child JVM finished").isTrue();
            exitCode = process.exitValue();
            stderr = Files.readString(stderrFile);
            Files.deleteIfExists(stderrFile);
        }
    }
}
