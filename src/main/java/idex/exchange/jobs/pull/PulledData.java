package idex.exchange.jobs.pull;

import idex.errors.Refusal;
import idex.exchange.endpoints.Registration;
import idex.exchange.jobs.http.UploadCheck;
import idex.exchange.jobs.store.JobFiles;
import idex.store.OwnerOnly;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Downloads a ready partner job's data files, one after the other, into one CSV in the job's directory, exactly
 * where an upload lands: a `.part` file first (removed at start if a crash cuts it off), checked as an upload is
 * ({@link UploadCheck}), forced to disk, then renamed to the upload's name the job will record. Each file is streamed
 * (gunzipped when the partner sends `Content-Encoding: gzip`); the header row is written once, and every later file
 * must start with the same header.
 */
final class PulledData {

    /** Where an upload file of a job is. */
    Path uploadPath(long jobId, String name) {
        return files.upload(jobId, name);
    }

    /** Opens one data file of the partner's job. */
    @FunctionalInterface
    interface Source {
        PartnerClient.Streamed open(String dataFileId) throws PartnerCallFailed;
    }

    /** Told how the download of each data file went, for the delivery log. */
    @FunctionalInterface
    interface Fetched {
        /** `status` null when no answer came; `error` null when the file was copied whole. */
        void fetched(String dataFileId, long at, Integer status, String error, int durationMs);
    }

    private static final int COPY_BUFFER = 64 * 1024;
    private static final int MAX_HEADER = 1024 * 1024;

    private final JobFiles files;
    private final LongSupplier clock;

    PulledData(JobFiles files, LongSupplier clock) {
        this.files = files;
        this.clock = clock;
    }

    /**
     * The name of the job's new upload file holding all `dataFiles`; `alive` runs now and then during the copy (it
     * keeps the lease, and throws when the lease is lost).
     */
    String download(long jobId, List<String> dataFiles, Source source, Registration producer, long producerId,
                    Runnable alive, Fetched fetched) throws PartnerCallFailed, PullRefused, IOException {
        Path part = files.partial(jobId);
        boolean done = false;
        try {
            try (OutputStream out = new BufferedOutputStream(Channels.newOutputStream(FileChannel.open(part,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), OwnerOnly.fileAttributes(part))),
                    COPY_BUFFER)) {
                Copy copy = new Copy(out, alive);
                for (String id : dataFiles) {
                    long at = clock.getAsLong();
                    long started = System.nanoTime();
                    Integer status = null;
                    try (PartnerClient.Streamed answer = source.open(id)) {
                        status = answer.status();
                        if (answer.status() < 200 || answer.status() >= 300) {
                            throw new PartnerCallFailed("GET data file " + id + " answered HTTP " + answer.status());
                        }
                        boolean gzip = "gzip".equalsIgnoreCase(answer.contentEncoding());
                        try (InputStream in = gzip ? new GZIPInputStream(answer.body(), COPY_BUFFER) : answer.body()) {
                            copy.file(id, in);
                        } catch (ZipException e) {
                            throw new PullRefused("Data file " + id + " was sent with Content-Encoding: gzip but is"
                                    + " not gzip data (" + e.getMessage() + ").");
                        } catch (EOFException e) {
                            throw new PartnerCallFailed("data file " + id + " ended early");
                        } catch (IOException e) {
                            throw new PartnerCallFailed("data file " + id + ": " + e.getMessage());
                        }
                        fetched.fetched(id, at, status, null, millisSince(started));
                    } catch (PartnerCallFailed | PullRefused e) {
                        fetched.fetched(id, at, status, e.getMessage(), millisSince(started));
                        throw e;
                    }
                }
            }
            try {
                UploadCheck.check(part, false, producer, producerId);
            } catch (Refusal e) {
                throw new PullRefused("The producer's data cannot be used: " + e.getMessage());
            }
            String name = part.getFileName().toString().replace(".part", "-pulled.csv");
            JobFiles.sync(part); // on disk before the job says it has data
            Files.move(part, files.upload(jobId, name), StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return name;
        } finally {
            if (!done) {
                JobFiles.deleteQuietly(part);
            }
        }
    }

    private static int millisSince(long startedNanos) {
        return (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - startedNanos) / 1_000_000);
    }

    /** The copy of the data files into the one upload: the first header kept, the others checked and left out. */
    private static final class Copy {
        private static final long ALIVE_EVERY = 8L * 1024 * 1024;

        private final OutputStream out;
        private final Runnable alive;
        private final byte[] buffer = new byte[COPY_BUFFER];
        private byte[] header;
        private int last = '\n';
        private long sinceAlive;

        Copy(OutputStream out, Runnable alive) {
            this.out = out;
            this.alive = alive;
        }

        void file(String id, InputStream in) throws IOException, PullRefused {
            byte[] line = headerLine(in, id);
            if (line == null) {
                return; // an empty file adds nothing
            }
            if (header == null) {
                header = line;
                write(line, line.length);
            } else if (!Arrays.equals(strip(line), strip(header))) {
                throw new PullRefused("Data file " + id + " has another header row than the first data file: every"
                        + " data file of a job must have the same columns.");
            }
            for (int n; (n = in.read(buffer)) >= 0; ) {
                write(buffer, n);
            }
        }

        private void write(byte[] bytes, int n) throws IOException {
            if (n == 0) {
                return;
            }
            out.write(bytes, 0, n);
            last = bytes[n - 1];
            sinceAlive += n;
            if (sinceAlive >= ALIVE_EVERY) {
                sinceAlive = 0;
                alive.run();
            }
        }

        /** The first line of a file, its line end included; null for an empty file. */
        private byte[] headerLine(InputStream in, String id) throws IOException, PullRefused {
            if (last != '\n') {
                out.write('\n'); // the previous file's last row had no line end
                last = '\n';
            }
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b; (b = in.read()) >= 0; ) {
                line.write(b);
                if (b == '\n') {
                    break;
                }
                if (line.size() > MAX_HEADER) {
                    throw new PullRefused("Data file " + id + " has no line end in its first " + MAX_HEADER
                            + " bytes: a CSV file starts with its header row.");
                }
            }
            return line.size() == 0 ? null : line.toByteArray();
        }

        private static byte[] strip(byte[] line) {
            int end = line.length;
            while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r')) {
                end--;
            }
            return Arrays.copyOf(line, end);
        }
    }
}
