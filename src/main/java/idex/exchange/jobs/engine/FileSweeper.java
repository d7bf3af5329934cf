package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Tidies the job files directory at start: what no job needs any more. */
final class FileSweeper {

    private static final Logger LOG = LoggerFactory.getLogger(FileSweeper.class);

    private final JobStore jobs;
    private final JobFiles files;
    private final JobSettings settings;

    FileSweeper(JobStore jobs, JobFiles files, JobSettings settings) {
        this.jobs = jobs;
        this.files = files;
        this.settings = settings;
    }

    /**
     * Removes files no job needs (a push export that ended in ERROR keeps its undelivered files, listed, for a retry
     * until the delivery log's retention): directories of jobs that ended (or never came to exist: a run cut off between
     * preparing a spawned job's upload and creating it), and stale segment files of jobs still waiting for data.
     * Directories younger than the stale timeout are left alone, as another node may be about to register them.
     */
    void sweep() {
        Path root = files.jobDir(0).getParent();
        if (!Files.isDirectory(root)) {
            return;
        }
        List<Long> ids = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path d : dirs) {
                try {
                    ids.add(Long.parseLong(d.getFileName().toString()));
                } catch (NumberFormatException ignored) {
                    // not a job's directory
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not list the job files directory {}", root, e);
            return;
        }
        Map<Long, JobStatus> statuses = jobs.statuses(ids.toArray(Long[]::new));
        Set<Long> keptForRetry = jobs.undeliveredPushFiles(ids.toArray(Long[]::new));
        long youngest = System.currentTimeMillis() - settings.staleAfter().toMillis();
        for (long id : ids) {
            JobStatus s = statuses.get(id);
            Path dir = files.jobDir(id);
            if ((s == null && olderThan(dir, youngest)) || (s != null && s.isFinal() && !keptForRetry.contains(id))) {
                JobFiles.deleteTree(dir);
            } else if (s == JobStatus.WAITING_TO_RECIEVE_DATA) {
                removeStaleFiles(files.outputDir(id), youngest);
            }
        }
    }

    /**
     * Segment files of a job still waiting for data were begun by a run that followed an upload cut off by a crash.
     * File by file, and only those untouched for the stale timeout: a run following an upload on another node
     * writes to its file as the upload arrives, and gives up by itself when the upload stalls that long.
     */
    private static void removeStaleFiles(Path outputDir, long youngest) {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try (DirectoryStream<Path> found = Files.newDirectoryStream(outputDir)) {
            for (Path f : found) {
                if (olderThan(f, youngest)) {
                    JobFiles.deleteQuietly(f);
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not tidy {}", outputDir, e);
        }
    }

    private static boolean olderThan(Path dir, long millis) {
        try {
            FileTime t = Files.getLastModifiedTime(dir);
            return t.toMillis() < millis;
        } catch (IOException e) {
            return false;
        }
    }
}
