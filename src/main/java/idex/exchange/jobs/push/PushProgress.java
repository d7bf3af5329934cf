package idex.exchange.jobs.push;

import org.jdbi.v3.core.Jdbi;

import java.util.List;

/**
 * Where a push export's delivery stands, in the store: the files not yet delivered (exchange_push_file), the failed
 * attempts of the current step, the partner's segment id. Every change is guarded by the node's claim on the job
 * (RUNNING, claimed_by this node), so that a node that lost the job changes nothing.
 */
final class PushProgress {

    /** A file still to deliver: its place in the export, its name in the job's output directory, its rows. */
    record PushFile(int seq, String name, long rows) {
    }

    private final Jdbi jdbi;

    PushProgress(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** The files the partner has not accepted yet, in order. */
    List<PushFile> undelivered(long jobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT seq, file_name, row_count FROM exchange_push_file"
                        + " WHERE job_id = :id AND delivered IS NULL ORDER BY seq")
                .bind("id", jobId)
                .map((rs, ctx) -> new PushFile(rs.getInt(1), rs.getString(2), rs.getLong(3))).list());
    }

    /** Rows of the files already delivered (for the log line of a delivery that resumed). */
    long deliveredRows(long jobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COALESCE(SUM(row_count), 0) FROM exchange_push_file"
                + " WHERE job_id = :id AND delivered IS NOT NULL").bind("id", jobId).mapTo(Long.class).one());
    }

    /** Failed attempts at the current step (finding the segment, or the first file not yet delivered). */
    int failures(long jobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT push_failures FROM exchange_job WHERE job_id = :id")
                .bind("id", jobId).mapTo(Integer.class).one());
    }

    /** The partner's segment id, kept on the job; a step done, so its failures start again from none. */
    boolean segmentFound(long jobId, String node, String segmentId, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET destination_segment_id = :seg,"
                        + " push_failures = 0, updated = :now" + HELD)
                .bind("seg", segmentId).bind("now", now).bind("id", jobId).bind("node", node).execute() == 1);
    }

    /**
     * A file the partner accepted: marked delivered (never sent again), in one transaction with the job's step
     * counters; false (nothing changed) when the node no longer holds the job. `stepDone`: it was the first file not
     * yet delivered, so the failures counted were its own and start again from none (a later file accepted beside a
     * failing one leaves them).
     */
    boolean delivered(long jobId, String node, int seq, boolean stepDone, long now) {
        return jdbi.inTransaction(h -> {
            if (h.createUpdate("UPDATE exchange_job SET push_failures = CASE WHEN :stepDone THEN 0"
                            + " ELSE push_failures END, attempts = 0, heartbeat = :now, updated = :now" + HELD)
                    .bind("stepDone", stepDone).bind("now", now).bind("id", jobId).bind("node", node)
                    .execute() != 1) {
                return false;
            }
            h.createUpdate("UPDATE exchange_push_file SET delivered = :now WHERE job_id = :id AND seq = :seq")
                    .bind("now", now).bind("id", jobId).bind("seq", seq).execute();
            return true;
        });
    }

    /**
     * A failed attempt with retries left: the job keeps RUNNING/DELIVERING but lets go of its node and thread, due
     * again at `due`, when any node's claim loop takes it up. Its run ended cleanly, so `attempts` (runs cut off in
     * a row) starts again from none.
     */
    boolean retryLater(long jobId, String node, int failures, long due, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET claimed_by = NULL, next_attempt = :due,"
                        + " push_failures = :failures, attempts = 0, updated = :now" + HELD)
                .bind("due", due).bind("failures", failures).bind("now", now).bind("id", jobId).bind("node", node)
                .execute() == 1);
    }

    /**
     * The job's push destination is turned off: the job lets go of its node and has no next attempt (the claim loop
     * leaves it alone) until the destination's registration is PUT again, which makes it due. False when the node no
     * longer holds the job, or the destination is no longer turned off (then it must not wait for a PUT).
     */
    boolean park(long jobId, String node, long destinationId, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET claimed_by = NULL, next_attempt = NULL,"
                        + " attempts = 0, updated = :now" + HELD + " AND EXISTS (SELECT 1 FROM exchange_endpoint"
                        + " WHERE endpoint_id = :dest AND push_destination_disabled IS NOT NULL)")
                .bind("now", now).bind("id", jobId).bind("node", node).bind("dest", destinationId).execute() == 1);
    }

    /** Every file delivered: COMPLETE. */
    boolean complete(long jobId, String node, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET status = 'COMPLETE', sub_status = NULL,"
                        + " claimed_by = NULL, next_attempt = NULL, updated = :now, ended = :now" + HELD)
                .bind("now", now).bind("id", jobId).bind("node", node).execute() == 1);
    }

    private static final String HELD = " WHERE job_id = :id AND status = 'RUNNING' AND claimed_by = :node";
}
