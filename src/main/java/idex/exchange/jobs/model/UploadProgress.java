package idex.exchange.jobs.model;

import org.jdbi.v3.core.Handle;

import java.nio.file.Path;

/**
 * What a run that processes an upload while it arrives (the engine's upload follower) is told by the upload. The
 * upload stays the judge: the run's work counts only if the upload is accepted and the run claims the job inside
 * the acceptance transaction; otherwise the run throws its output away and the job is processed as usual.
 */
public interface UploadProgress {

    /** Not followed: every call does nothing, and the accepted job waits in PENDING for a worker. */
    UploadProgress NONE = new UploadProgress() {
    };

    /** The first `bytes` bytes of the upload are in its file (called on the event loop, in order). */
    default void wrote(long bytes) {
    }

    /** Every byte of the upload is in its file: `bytes` in all. */
    default void allWritten(long bytes) {
    }

    /** The upload was cut off or refused: the job still waits for data. */
    default void refused() {
    }

    /**
     * Inside the transaction that accepts the upload (job now PENDING): claims the job for the run that followed
     * the upload, if that run still goes on. False: the job stays PENDING for any worker.
     */
    default boolean claim(Handle h, long now) {
        return false;
    }

    /** The acceptance committed; the upload is now `file`. */
    default void accepted(Path file) {
    }
}
