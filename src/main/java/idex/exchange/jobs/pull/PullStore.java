package idex.exchange.jobs.pull;

import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.store.JobStore;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Optional;

/**
 * The pull state of pull producers' jobs (exchange_job_pull). A job is due when it waits for data, its producer is
 * a pull producer, and its next poll has come (a job never pulled yet is due at once). A node works on a due job only
 * under a lease: every change below is guarded by it, so two nodes never poll, download or end the same job at once,
 * and a node that stops mid-step leaves a lease that simply runs out.
 */
final class PullStore {

    private final Jdbi jdbi;
    private final JobStore jobs;

    PullStore(Jdbi jdbi, JobStore jobs) {
        this.jdbi = jdbi;
        this.jobs = jobs;
    }

    /** Up to `limit` due jobs, those waiting longest first. */
    List<Long> due(long now, int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT j.job_id FROM exchange_job j"
                        + " JOIN exchange_endpoint e ON e.endpoint_id = j.producer_endpoint_id"
                        + " LEFT JOIN exchange_job_pull p ON p.job_id = j.job_id"
                        + " WHERE j.status = 'WAITING_TO_RECIEVE_DATA' AND e.audience_role = 'SOURCE'"
                        + " AND e.audience_mode = 'pull'"
                        + " AND (p.job_id IS NULL OR (p.next_poll <= :now"
                        + " AND (p.leased_until IS NULL OR p.leased_until < :now)))"
                        + " ORDER BY COALESCE(p.next_poll, 0), j.job_id LIMIT :limit")
                .bind("now", now).bind("limit", limit).mapTo(Long.class).list());
    }

    /**
     * Leases a due job to `node` until `until`, starting its pull state (and showing the job as PULLING) the first
     * time; empty when another node leased it first or it is no longer due.
     */
    Optional<PullState> lease(long jobId, String node, long now, long until) {
        return jdbi.inTransaction(h -> {
            int started = h.createUpdate("INSERT INTO exchange_job_pull (job_id, started, next_poll, wait_ms)"
                            + " SELECT job_id, :now, :now, 0 FROM exchange_job"
                            + " WHERE job_id = :id AND status = 'WAITING_TO_RECIEVE_DATA' ON CONFLICT DO NOTHING")
                    .bind("id", jobId).bind("now", now).execute();
            if (started == 1) {
                h.createUpdate("UPDATE exchange_job SET sub_status = 'PULLING', updated = :now WHERE job_id = :id")
                        .bind("id", jobId).bind("now", now).execute();
            }
            return h.createQuery("UPDATE exchange_job_pull p SET leased_by = :node, leased_until = :until"
                            + " FROM exchange_job j WHERE p.job_id = :id AND j.job_id = p.job_id"
                            + " AND j.status = 'WAITING_TO_RECIEVE_DATA' AND p.next_poll <= :now"
                            + " AND (p.leased_until IS NULL OR p.leased_until < :now)"
                            + " RETURNING p.job_id, j.account_id, p.partner_job_id, p.started, p.wait_ms, p.polls,"
                            + " p.last_error")
                    .bind("id", jobId).bind("node", node).bind("now", now).bind("until", until)
                    .map((rs, ctx) -> new PullState(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4),
                            rs.getLong(5), rs.getInt(6), rs.getString(7)))
                    .findOne();
        });
    }

    /** Keeps a lease for a long step (a download); false when the node no longer holds it. */
    boolean renew(long jobId, String node, long until) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job_pull SET leased_until = :until"
                        + " WHERE job_id = :id AND leased_by = :node")
                .bind("id", jobId).bind("node", node).bind("until", until).execute() == 1);
    }

    /** Records the partner's job id, and when to ask for its status first; gives the lease back. */
    boolean created(long jobId, String node, String partnerJobId, long nextPoll, long waitMs) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job_pull SET partner_job_id = :partner,"
                        + " next_poll = :next, wait_ms = :wait, last_error = NULL, leased_by = NULL, leased_until = NULL"
                        + " WHERE job_id = :id AND leased_by = :node")
                .bind("id", jobId).bind("node", node).bind("partner", partnerJobId).bind("next", nextPoll)
                .bind("wait", waitMs).execute() == 1);
    }

    /** One more poll done (or a call that failed for now, `error`): the next is due at `nextPoll`; lease given back. */
    boolean pollLater(long jobId, String node, long nextPoll, long waitMs, String error) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job_pull SET next_poll = :next, wait_ms = :wait,"
                        + " polls = polls + 1, last_error = :error, leased_by = NULL, leased_until = NULL"
                        + " WHERE job_id = :id AND leased_by = :node")
                .bind("id", jobId).bind("node", node).bind("next", nextPoll).bind("wait", waitMs)
                .bind("error", error == null ? null : clip(error, 2000)).execute() == 1);
    }

    /**
     * The pulled data becomes the job's upload, as an accepted upload does: WAITING_TO_RECIEVE_DATA to PENDING with
     * its file, the sub-status cleared (processing shows as after any upload), the pull state gone. False when the
     * lease was lost or the job no longer waits.
     */
    boolean accept(long jobId, String node, String uploadFile, long now) {
        return jdbi.inTransaction(h -> {
            if (h.createUpdate("DELETE FROM exchange_job_pull WHERE job_id = :id AND leased_by = :node")
                    .bind("id", jobId).bind("node", node).execute() != 1
                    || !jobs.transition(h, jobId, JobStatus.WAITING_TO_RECIEVE_DATA, JobStatus.PENDING, now)) {
                h.rollback();
                return false;
            }
            jobs.setUpload(h, jobId, uploadFile);
            h.createUpdate("UPDATE exchange_job SET sub_status = NULL WHERE job_id = :id").bind("id", jobId).execute();
            return true;
        });
    }

    /** Ends the job in ERROR with `reason` (its sub-status stays PULLING: where it failed); false when not held. */
    boolean fail(long jobId, String node, String reason, long now) {
        return jdbi.inTransaction(h -> {
            if (h.createUpdate("DELETE FROM exchange_job_pull WHERE job_id = :id AND leased_by = :node")
                    .bind("id", jobId).bind("node", node).execute() != 1
                    || !jobs.fail(h, jobId, JobStatus.WAITING_TO_RECIEVE_DATA, clip(reason, 4000), now)) {
                h.rollback();
                return false;
            }
            return true;
        });
    }

    /** Gives back every lease of a stopping node, so that another node (or its restart) goes on at once. */
    void releaseAll(String node) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_job_pull SET leased_by = NULL, leased_until = NULL"
                + " WHERE leased_by = :node").bind("node", node).execute());
    }

    /** Gives back one lease without changing the state (the step was cut short). */
    void release(long jobId, String node) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_job_pull SET leased_by = NULL, leased_until = NULL"
                + " WHERE job_id = :id AND leased_by = :node").bind("id", jobId).bind("node", node).execute());
    }

    static String clip(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max);
    }
}
