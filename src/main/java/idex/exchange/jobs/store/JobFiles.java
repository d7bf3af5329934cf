package idex.exchange.jobs.store;

import idex.auth.KeyHash;
import idex.files.FileIo;
import idex.store.OwnerOnly;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where a job's files live: `jobs/<jobId>/` under the files directory, holding the accepted upload and the output
 * files. An upload is written to a `.part` file first and renamed once complete, so a crash never leaves a file
 * that looks accepted; leftover `.part` files are removed at start.
 *
 * <p>Everything idex creates here is owner-only (directories 0700, files 0600 where the file system has POSIX
 * permissions), given at creation, never changed afterwards: the files hold identifiers of people.
 */
public final class JobFiles {

    private final Path root;
    private final FileIo io;

    /** The layout only, for finding files; reads and writes through the page cache. */
    public JobFiles(Path filesDir) {
        this(filesDir, FileIo.BUFFERED);
    }

    public JobFiles(Path filesDir, FileIo io) {
        this.root = filesDir.resolve("jobs");
        this.io = io;
    }

    /** How uploads and output files are read and written. */
    public FileIo io() {
        return io;
    }

    public Path jobDir(long jobId) {
        return root.resolve(Long.toString(jobId));
    }

    /** A new, unique place to receive an upload. */
    public Path partial(long jobId) {
        try {
            createDirectories(jobDir(jobId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jobDir(jobId).resolve("upload-" + KeyHash.randomToken(9) + ".part");
    }

    /**
     * Where a job's output files live: `jobs/<jobId>/files/`. A processing run empties it first and the files it
     * writes count only once the run's final transaction registers them in `exchange_job_file`, so a run cut off by a
     * crash leaves nothing that a download could see.
     */
    public Path outputDir(long jobId) {
        return jobDir(jobId).resolve("files");
    }

    /** One output file, by the opaque name registered in `exchange_job_file`. */
    public Path outputFile(long jobId, String fileName) {
        return outputDir(jobId).resolve(fileName);
    }

    /** The accepted upload's path, by the name recorded on the job. */
    public Path upload(long jobId, String name) {
        return jobDir(jobId).resolve(name);
    }

    /** Removes uploads cut off by a crash or a stop. */
    public void removePartials() {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> jobs = Files.newDirectoryStream(root)) {
            for (Path job : jobs) {
                try (DirectoryStream<Path> parts = Files.newDirectoryStream(job, "*.part")) {
                    for (Path p : parts) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates `dir` and its missing parents owner-only (0700), as every directory under the files directory is. */
    public static void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir, OwnerOnly.dirAttributes(dir));
    }

    /** Copies `source` to the new file `target` (it must not exist), owner-only (0600) from its creation, and syncs it. */
    public static void copyNew(Path source, Path target) throws IOException {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                     OwnerOnly.fileAttributes(target))) {
            long size = in.size();
            for (long done = 0; done < size; ) {
                long n = in.transferTo(done, size - done, out);
                if (n <= 0) {
                    throw new IOException(source + " ended at " + done + " of " + size + " bytes while copied");
                }
                done += n;
            }
            out.force(true);
        }
    }

    /** Forces a written file to the disk, so that a transaction that names it never outlives its content. */
    public static void sync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    public static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a file that cannot be removed now is removed with its job's directory later
        }
    }

    /** Removes a whole directory (a job's output of a run that did not finish). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(JobFiles::deleteQuietly);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
