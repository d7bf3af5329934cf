package idex.exchange.jobs.store;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.model.OutputFile;
import idex.exchange.jobs.model.RunResult;
import idex.exchange.jobs.model.UploadProgress;
import idex.json.Json;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Jobs in the store. Every read is scoped to an account; every status change is a single UPDATE guarded by the
 * status it leaves (answering whether it happened), so a transition is atomic and happens once.
 */
public final class JobStore {

    private static final String COLUMNS = "job_id, account_id, category, status, producer_endpoint_id,"
            + " destination_endpoint_id, scheduled_job_id, parent_job_id, definition, error_details, source_record_count,"
            + " translated_record_count, destination_record_count, skipped_record_count, skipped_records, upload_file, created,"
            + " started, ended, sub_status, destination_segment_id";

    private static final RowMapper<Job> MAPPER = (rs, ctx) -> {
        JobCategory category = JobCategory.valueOf(rs.getString("category"));
        return new Job(rs.getLong("job_id"), rs.getLong("account_id"), category,
                JobStatus.valueOf(rs.getString("status")), rs.getLong("producer_endpoint_id"),
                rs.getObject("destination_endpoint_id", Long.class), rs.getObject("scheduled_job_id", Long.class),
                rs.getObject("parent_job_id", Long.class), JobDefinition.fromStored(rs.getString("definition"), category),
                rs.getString("error_details"), rs.getObject("source_record_count", Long.class),
                rs.getObject("translated_record_count", Long.class), rs.getObject("destination_record_count", Long.class),
                rs.getObject("skipped_record_count", Long.class), rs.getString("skipped_records"),
                rs.getString("upload_file"), rs.getLong("created"), rs.getObject("started", Long.class),
                rs.getObject("ended", Long.class), rs.getString("sub_status"), rs.getString("destination_segment_id"),
                List.of());
    };

    private final Jdbi jdbi;

    public JobStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** A job created now, waiting for its producer's data; answers its id. */
    public long createJob(long accountId, JobCategory category, JobDefinition definition, long now) {
        return jdbi.inTransaction(h -> create(h, accountId, category, JobStatus.WAITING_TO_RECIEVE_DATA, definition,
                null, null, now));
    }

    /**
     * The destination is done with a job: READY_FOR_DOWNLOAD to COMPLETE, its files unlisted in the same transaction.
     * False when the job was not ready (someone else moved it). Its files on disk are the caller's to delete, after.
     */
    public boolean completeJob(long jobId, long now) {
        return jdbi.inTransaction(h -> {
            if (!transition(h, jobId, JobStatus.READY_FOR_DOWNLOAD, JobStatus.COMPLETE, now)) {
                return false;
            }
            unlistFiles(h, jobId, null);
            return true;
        });
    }

    /** The producer gives up on a job that waits for its data: ERROR with its reason; false when it no longer waits. */
    public boolean failWaitingJob(long jobId, String reason, long now) {
        return jdbi.withHandle(h -> fail(h, jobId, JobStatus.WAITING_TO_RECIEVE_DATA, reason, now));
    }

    /**
     * An upload becomes the job's data: WAITING_TO_RECIEVE_DATA to PENDING with its file, and, in the same
     * transaction, claimed by the run that followed the upload if that run goes on ({@link UploadProgress#claim}).
     * False when the job no longer waited (another upload or a status change came first).
     */
    public boolean acceptUpload(long jobId, String fileName, UploadProgress progress, long now) {
        return jdbi.inTransaction(h -> {
            if (!transition(h, jobId, JobStatus.WAITING_TO_RECIEVE_DATA, JobStatus.PENDING, now)) {
                return false;
            }
            setUpload(h, jobId, fileName);
            progress.claim(h, now);
            return true;
        });
    }

    /** Unlists one output file of a job; false when it was not listed (a concurrent removal or completion won). */
    public boolean removeFile(long jobId, String fileName) {
        return jdbi.inTransaction(h -> unlistFiles(h, jobId, fileName)) > 0;
    }

    /** Unlists a job's output files: the one named, or all of them when `fileName` is null. */
    private static int unlistFiles(Handle h, long jobId, String fileName) {
        return h.createUpdate("DELETE FROM exchange_job_file WHERE job_id = :id"
                        + (fileName == null ? "" : " AND file_name = :name"))
                .bind("id", jobId).bind("name", fileName).execute();
    }

    /**
     * An export run's end, in one transaction, if this node still holds the job: READY_FOR_DOWNLOAD with its counts,
     * its files listed and, when the run updates identities, the spawned SEGMENT_POPULATE_DB job `child` (an id from
     * {@link #nextId()}, 0 for none) created PENDING on the same upload. False when the claim was lost.
     *
     * <p>With `push` (the destination is a push destination) the job stays RUNNING with sub-status DELIVERING and
     * no node, due now: its files are listed for delivery (exchange_push_file) instead of for download, and the claim
     * loop takes the job up again to deliver them.
     */
    public boolean finishExport(Job job, String node, RunResult result, List<OutputFile> files, long child,
                                String upload, boolean push, long now) {
        return jdbi.inTransaction(h -> {
            if (!finishRun(h, job.jobId(), node, push ? JobStatus.RUNNING : JobStatus.READY_FOR_DOWNLOAD, result,
                    now)) {
                return false;
            }
            if (push) {
                startDelivery(h, job.jobId(), files, now);
            } else {
                for (OutputFile f : files) {
                    addFile(h, job.jobId(), f);
                }
            }
            if (child != 0) {
                insert(h, child, job.accountId(), JobCategory.SEGMENT_POPULATE_DB, JobStatus.PENDING, job.definition(),
                        job.scheduledJobId(), null, job.jobId(), now);
                setUpload(h, child, upload);
            }
            return true;
        });
    }

    /** A run's end in `to` with its counts, if this node still holds the job; false when the claim was lost. */
    public boolean finishRun(long jobId, String node, JobStatus to, RunResult result, long now) {
        return jdbi.inTransaction(h -> finishRun(h, jobId, node, to, result, now));
    }

    /** A new job id, for a job whose files must exist before its row does. */
    public long nextId() {
        return jdbi.withHandle(this::nextId);
    }

    /** Creates a job in its first status; answers its id. */
    public long create(Handle h, long accountId, JobCategory category, JobStatus status, JobDefinition definition,
                       Long scheduledJobId, Long parentJobId, long now) {
        return create(h, accountId, category, status, definition, scheduledJobId, null, parentJobId, now);
    }

    /**
     * The same for the job of a scheduled job's occurrence (Unix milliseconds): a second job for the same
     * (scheduledJobId, occurrence) violates a unique key.
     */
    public long create(Handle h, long accountId, JobCategory category, JobStatus status, JobDefinition definition,
                       Long scheduledJobId, Long occurrence, Long parentJobId, long now) {
        long id = nextId(h);
        insert(h, id, accountId, category, status, definition, scheduledJobId, occurrence, parentJobId, now);
        return id;
    }

    /** A new job id, for a job whose files must exist before its row does. */
    public long nextId(Handle h) {
        return h.createQuery("SELECT nextval('exchange_job_seq')").mapTo(Long.class).one();
    }

    /** Creates a job under an id from {@link #nextId}. */
    public void insert(Handle h, long id, long accountId, JobCategory category, JobStatus status,
                       JobDefinition definition, Long scheduledJobId, Long occurrence, Long parentJobId, long now) {
        h.createUpdate("INSERT INTO exchange_job (job_id, account_id, category, status, producer_endpoint_id,"
                        + " destination_endpoint_id, scheduled_job_id, occurrence, parent_job_id, definition, created,"
                        + " started, updated)"
                        + " VALUES (:id, :account, :category, :status, :producer, :destination, :scheduled, :occurrence,"
                        + " :parent, :definition, :now, :started, :now)")
                .bind("id", id).bind("account", accountId).bind("category", category.name())
                .bind("status", status.name()).bind("producer", definition.producerEndpointId())
                .bind("destination", definition.destinationEndpointId()).bind("scheduled", scheduledJobId)
                .bind("occurrence", occurrence)
                .bind("parent", parentJobId).bind("definition", definition.toJson().toString())
                .bind("now", now).bind("started", status == JobStatus.SCHEDULED ? null : now)
                .execute();
    }

    public Optional<Job> find(long accountId, long jobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_job WHERE job_id = :id AND account_id = :a")
                .bind("id", jobId).bind("a", accountId).map(MAPPER).findOne().map(j -> withFiles(h, j)));
    }

    /** Jobs of a category in an account, optionally those an endpoint produces or receives, and of one status. */
    public List<Job> list(long accountId, JobCategory category, Long endpointId, JobStatus status) {
        return jdbi.withHandle(h -> {
            List<Job> jobs = h.createQuery("SELECT " + COLUMNS + " FROM exchange_job WHERE account_id = :a AND category = :c"
                            + (endpointId == null ? "" : " AND (producer_endpoint_id = :e OR destination_endpoint_id = :e)")
                            + (status == null ? "" : " AND status = :s") + " ORDER BY job_id")
                    .bind("a", accountId).bind("c", category.name()).bind("e", endpointId)
                    .bind("s", status == null ? null : status.name())
                    .map(MAPPER).list();
            Map<Long, List<String>> files = files(h, jobs.stream().map(Job::jobId).toArray(Long[]::new));
            List<Job> out = new ArrayList<>(jobs.size());
            for (Job j : jobs) {
                out.add(withFiles(j, files.getOrDefault(j.jobId(), List.of())));
            }
            return out;
        });
    }

    /** Moves a job from one status to another; false when it was not in `from` (someone else moved it). */
    public boolean transition(Handle h, long jobId, JobStatus from, JobStatus to, long now) {
        return h.createUpdate("UPDATE exchange_job SET status = :to, updated = :now"
                        + (to.isFinal() ? ", ended = :now" : "") + " WHERE job_id = :id AND status = :from")
                .bind("to", to.name()).bind("from", from.name()).bind("id", jobId).bind("now", now)
                .execute() == 1;
    }

    public boolean transition(long jobId, JobStatus from, JobStatus to, long now) {
        return jdbi.withHandle(h -> transition(h, jobId, from, to, now));
    }

    /** Ends a job in ERROR with its reason, from `from`; false when it was not there. */
    public boolean fail(Handle h, long jobId, JobStatus from, String reason, long now) {
        return h.createUpdate("UPDATE exchange_job SET status = 'ERROR', error_details = :reason, updated = :now,"
                        + " ended = :now, claimed_by = NULL WHERE job_id = :id AND status = :from")
                .bind("reason", reason).bind("from", from.name()).bind("id", jobId).bind("now", now).execute() == 1;
    }

    /** A job a node may claim: PENDING, or a push export's delivery (RUNNING, no node) whose next attempt is due. */
    private static final String CLAIMABLE = "(status = 'PENDING' OR (status = 'RUNNING' AND claimed_by IS NULL"
            + " AND next_attempt <= :now))";

    /**
     * Claims the oldest PENDING job (or due delivery) for a node: RUNNING, with the node's name, a first heartbeat and
     * one more attempt. SKIP LOCKED lets nodes claim side by side; the guarded UPDATE makes a claim happen once.
     */
    public Optional<Job> claim(String node, long now) {
        return jdbi.inTransaction(h -> {
            Optional<Long> next = h.createQuery("SELECT job_id FROM exchange_job WHERE " + CLAIMABLE
                            + " ORDER BY job_id LIMIT 1 FOR UPDATE SKIP LOCKED")
                    .bind("now", now).mapTo(Long.class).findOne();
            if (next.isEmpty() || h.createUpdate("UPDATE exchange_job SET status = 'RUNNING', claimed_by = :node,"
                            + " heartbeat = :now, attempts = attempts + 1, updated = :now, next_attempt = NULL"
                            + " WHERE job_id = :id AND " + CLAIMABLE)
                    .bind("node", node).bind("now", now).bind("id", next.get()).execute() != 1) {
                return Optional.<Job>empty();
            }
            return h.createQuery("SELECT " + COLUMNS + " FROM exchange_job WHERE job_id = :id")
                    .bind("id", next.get()).map(MAPPER).findOne();
        });
    }

    /**
     * Claims one PENDING job for a node, inside the caller's transaction (the one that accepted its upload, for the
     * run that processed the upload while it arrived): as {@link #claim(String, long)} does, for that job only.
     */
    public boolean claim(Handle h, long jobId, String node, long now) {
        return h.createUpdate("UPDATE exchange_job SET status = 'RUNNING', claimed_by = :node, heartbeat = :now,"
                        + " attempts = attempts + 1, updated = :now WHERE job_id = :id AND status = 'PENDING'")
                .bind("node", node).bind("now", now).bind("id", jobId).execute() == 1;
    }

    /** Renews a node's claim on a running job; false when the node no longer holds it. */
    public boolean heartbeat(long jobId, String node, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET heartbeat = :now"
                        + " WHERE job_id = :id AND status = 'RUNNING' AND claimed_by = :node")
                .bind("now", now).bind("id", jobId).bind("node", node).execute() == 1);
    }

    /**
     * Takes back RUNNING jobs whose node has not beaten since `cutoff` (it crashed or was cut off): to PENDING to
     * run again, or to ERROR once `maxAttempts` runs have been cut off. Answers how many were taken back.
     */
    public int recoverStale(long cutoff, int maxAttempts, long now) {
        return jdbi.inTransaction(h -> {
            int failed = h.createUpdate("UPDATE exchange_job SET status = 'ERROR', claimed_by = NULL, updated = :now,"
                            + " ended = :now, error_details = :reason"
                            + " WHERE status = 'RUNNING' AND claimed_by IS NOT NULL AND heartbeat < :cutoff"
                            + " AND attempts >= :max")
                    .bind("now", now).bind("cutoff", cutoff).bind("max", maxAttempts)
                    .bind("reason", "Processing was cut off " + maxAttempts + " times (its server stopped or crashed"
                            + " while running it); the job was given up. Create it again to retry.")
                    .execute();
            // A delivery cut off goes on where it was (its files are written), not back to processing.
            int delivering = h.createUpdate("UPDATE exchange_job SET claimed_by = NULL, next_attempt = :now,"
                            + " updated = :now WHERE status = 'RUNNING' AND claimed_by IS NOT NULL"
                            + " AND heartbeat < :cutoff AND sub_status = 'DELIVERING'")
                    .bind("now", now).bind("cutoff", cutoff).execute();
            return failed + delivering + h.createUpdate("UPDATE exchange_job SET status = 'PENDING', claimed_by = NULL,"
                            + " updated = :now WHERE status = 'RUNNING' AND claimed_by IS NOT NULL"
                            + " AND heartbeat < :cutoff")
                    .bind("now", now).bind("cutoff", cutoff).execute();
        });
    }

    /**
     * Gives a job this node was running back to the queue, without counting the attempt: the node is stopping, the
     * job did nothing wrong. A delivering push export stays RUNNING, due again at once.
     */
    public boolean release(long jobId, String node, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET claimed_by = NULL,"
                        + " status = CASE WHEN sub_status = 'DELIVERING' THEN 'RUNNING' ELSE 'PENDING' END,"
                        + " next_attempt = CASE WHEN sub_status = 'DELIVERING' THEN :now END,"
                        // a delivery resets attempts as each file goes: never below none
                        + " attempts = GREATEST(attempts - 1, 0), updated = :now"
                        + " WHERE job_id = :id AND status = 'RUNNING' AND claimed_by = :node")
                .bind("now", now).bind("id", jobId).bind("node", node).execute() == 1);
    }

    /**
     * Ends a run: the job leaves RUNNING for `to` with its counts and errorDetails, if this node still holds it.
     * Called inside the run's final transaction, which also registers the run's files; false (roll back) otherwise.
     */
    private boolean finishRun(Handle h, long jobId, String node, JobStatus to, RunResult result, long now) {
        return h.createUpdate("UPDATE exchange_job SET status = :to, source_record_count = :source,"
                        + " translated_record_count = :translated, destination_record_count = :destination,"
                        + " skipped_record_count = :skipped, skipped_records = :skippedByReason,"
                        + " error_details = :details, claimed_by = NULL, updated = :now"
                        + (to.isFinal() ? ", ended = :now" : "")
                        + " WHERE job_id = :id AND status = 'RUNNING' AND claimed_by = :node")
                .bind("to", to.name()).bind("source", result.sourceRecords())
                .bind("translated", result.translatedRecords()).bind("destination", result.destinationRecords())
                .bind("skipped", result.skipped().total()).bind("skippedByReason", Json.write(result.skipped().byKey()))
                .bind("details", result.errorDetails()).bind("now", now).bind("id", jobId).bind("node", node)
                .execute() == 1;
    }

    /** Ends a run in ERROR with its reason, if this node still holds the job. */
    public boolean failRun(long jobId, String node, String reason, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET status = 'ERROR', error_details = :reason,"
                        + " claimed_by = NULL, updated = :now, ended = :now"
                        + " WHERE job_id = :id AND status = 'RUNNING' AND claimed_by = :node")
                .bind("reason", reason).bind("now", now).bind("id", jobId).bind("node", node).execute() == 1);
    }

    /** A push export's files, to be delivered in order, and the job due for its first delivery attempt now. */
    private static void startDelivery(Handle h, long jobId, List<OutputFile> files, long now) {
        for (OutputFile f : files) {
            h.createUpdate("INSERT INTO exchange_push_file (job_id, seq, file_name, row_count, byte_count)"
                            + " VALUES (:id, :seq, :name, :rows, :bytes)")
                    .bind("id", jobId).bind("name", f.name()).bind("seq", f.seq()).bind("rows", f.rows())
                    .bind("bytes", f.bytes()).execute();
        }
        h.createUpdate("UPDATE exchange_job SET sub_status = 'DELIVERING', next_attempt = :now, attempts = 0,"
                        + " push_failures = 0 WHERE job_id = :id")
                .bind("id", jobId).bind("now", now).execute();
    }

    /** Registers one output file of a run (inside the run's final transaction). */
    private void addFile(Handle h, long jobId, OutputFile file) {
        h.createUpdate("INSERT INTO exchange_job_file (job_id, file_name, seq, row_count, byte_count)"
                        + " VALUES (:id, :name, :seq, :rows, :bytes)")
                .bind("id", jobId).bind("name", file.name()).bind("seq", file.seq()).bind("rows", file.rows())
                .bind("bytes", file.bytes()).execute();
    }

    /** Records the upload a job reads (a spawned job's own link to its parent's upload). */
    public void setUpload(Handle h, long jobId, String fileName) {
        h.createUpdate("UPDATE exchange_job SET upload_file = :f WHERE job_id = :id")
                .bind("f", fileName).bind("id", jobId).execute();
    }

    /** Statuses of jobs by id, for the start-up sweep of the files directory. */
    public Map<Long, JobStatus> statuses(Long[] jobIds) {
        Map<Long, JobStatus> out = new HashMap<>();
        if (jobIds.length == 0) {
            return out;
        }
        jdbi.useHandle(h -> h.createQuery("SELECT j.job_id, j.status FROM exchange_job j JOIN UNNEST(:ids) AS t(id)"
                        + " ON j.job_id = t.id")
                .bind("ids", jobIds)
                .map((rs, ctx) -> Map.entry(rs.getLong(1), JobStatus.valueOf(rs.getString(2))))
                .forEach(e -> out.put(e.getKey(), e.getValue())));
        return out;
    }

    /** Of these jobs, those with push files still listed as undelivered (kept for a retry if the job ended). */
    public Set<Long> undeliveredPushFiles(Long[] jobIds) {
        if (jobIds.length == 0) {
            return Set.of();
        }
        return jdbi.withHandle(h -> new HashSet<>(h.createQuery("SELECT DISTINCT f.job_id FROM exchange_push_file f"
                        + " JOIN UNNEST(:ids) AS t(id) ON f.job_id = t.id WHERE f.delivered IS NULL")
                .bind("ids", jobIds).mapTo(Long.class).list()));
    }

    private static Job withFiles(Handle h, Job j) {
        return withFiles(j, files(h, new Long[]{j.jobId()}).getOrDefault(j.jobId(), List.of()));
    }

    private static Job withFiles(Job j, List<String> files) {
        return new Job(j.jobId(), j.accountId(), j.category(), j.status(), j.producerEndpointId(), j.destinationEndpointId(),
                j.scheduledJobId(), j.parentJobId(), j.definition(), j.errorDetails(), j.sourceRecordCount(),
                j.translatedRecordCount(), j.destinationRecordCount(), j.skippedRecordCount(), j.skippedRecords(), j.uploadFile(), j.created(), j.started(), j.ended(),
                j.subStatus(), j.destinationSegmentId(), List.copyOf(files));
    }

    private static Map<Long, List<String>> files(Handle h, Long[] jobIds) {
        Map<Long, List<String>> files = new HashMap<>();
        if (jobIds.length == 0) {
            return files;
        }
        h.createQuery("SELECT f.job_id, f.file_name FROM exchange_job_file f JOIN UNNEST(:ids) AS t(id) ON f.job_id = t.id"
                        + " ORDER BY f.job_id, f.seq")
                .bind("ids", jobIds)
                .map((rs, ctx) -> Map.entry(rs.getLong(1), rs.getString(2)))
                .forEach(e -> files.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue()));
        return files;
    }
}
