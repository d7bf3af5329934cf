package idex.exchange.jobs.model;

import java.time.Duration;

/**
 * How a node processes jobs.
 *
 * @param workers     jobs this node processes at once (each on a thread of its own)
 * @param rowsPerFile rows in one segment data file before the next file is started (each file has its header)
 * @param staleAfter  how long a RUNNING job may go without its node's heartbeat before another node (or this one,
 *                    after a restart) takes it back: a node beats every third of this
 * @param followUploads whether a segment export is processed while its upload arrives (up to `workers` uploads at
 *                    once, besides the `workers` queued jobs), so that upload and processing overlap
 * @param directIo    whether uploads and segment data files bypass the page cache where the file system allows it
 *                    (see {@link idex.files.FileIo})
 */
public record JobSettings(int workers, int rowsPerFile, Duration staleAfter, boolean followUploads, boolean directIo) {

    public static final JobSettings DEFAULT = new JobSettings(2, 1_000_000, Duration.ofSeconds(30), true, true);

    public JobSettings {
        if (workers < 1) {
            throw new IllegalArgumentException("job workers must be at least 1");
        }
        if (rowsPerFile < 1) {
            throw new IllegalArgumentException("rows per segment data file must be at least 1");
        }
        if (staleAfter.toMillis() < 300) {
            throw new IllegalArgumentException("the job heartbeat timeout must be at least 300 ms");
        }
    }

    public JobSettings withRowsPerFile(int rows) {
        return new JobSettings(workers, rows, staleAfter, followUploads, directIo);
    }

    public JobSettings withStaleAfter(Duration d) {
        return new JobSettings(workers, rowsPerFile, d, followUploads, directIo);
    }

    public JobSettings withFollowUploads(boolean follow) {
        return new JobSettings(workers, rowsPerFile, staleAfter, follow, directIo);
    }

    public JobSettings withDirectIo(boolean direct) {
        return new JobSettings(workers, rowsPerFile, staleAfter, followUploads, direct);
    }
}
