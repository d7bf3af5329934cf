package idex.exchange.jobs;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.ArrayList;
import java.util.HashMap;
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
            + " translated_record_count, destination_record_count, upload_file, created, started, ended";

    private static final RowMapper<Job> MAPPER = (rs, ctx) -> {
        JobCategory category = JobCategory.valueOf(rs.getString("category"));
        return new Job(rs.getLong("job_id"), rs.getLong("account_id"), category,
                JobStatus.valueOf(rs.getString("status")), rs.getLong("producer_endpoint_id"),
                rs.getObject("destination_endpoint_id", Long.class), rs.getObject("scheduled_job_id", Long.class),
                rs.getObject("parent_job_id", Long.class), JobDefinition.fromStored(rs.getString("definition"), category),
                rs.getString("error_details"), rs.getObject("source_record_count", Long.class),
                rs.getObject("translated_record_count", Long.class), rs.getObject("destination_record_count", Long.class),
                rs.getString("upload_file"), rs.getLong("created"), rs.getObject("started", Long.class),
                rs.getObject("ended", Long.class), List.of());
    };

    private final Jdbi jdbi;

    public JobStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public Jdbi jdbi() {
        return jdbi;
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
        long id = h.createQuery("SELECT nextval('exchange_job_seq')").mapTo(Long.class).one();
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
        return id;
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

    private static Job withFiles(Handle h, Job j) {
        return withFiles(j, files(h, new Long[]{j.jobId()}).getOrDefault(j.jobId(), List.of()));
    }

    private static Job withFiles(Job j, List<String> files) {
        return new Job(j.jobId(), j.accountId(), j.category(), j.status(), j.producerEndpointId(), j.destinationEndpointId(),
                j.scheduledJobId(), j.parentJobId(), j.definition(), j.errorDetails(), j.sourceRecordCount(),
                j.translatedRecordCount(), j.destinationRecordCount(), j.uploadFile(), j.created(), j.started(), j.ended(),
                List.copyOf(files));
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
