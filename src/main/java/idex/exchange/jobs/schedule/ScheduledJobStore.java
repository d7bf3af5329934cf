package idex.exchange.jobs.schedule;

import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.model.JobStatus;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Scheduled jobs in the store, and the jobs of their occurrences. Reads through the API are scoped to an account and
 * never see a deleted (CANCELLED) scheduled job. A state change is one UPDATE guarded by the state it leaves, which
 * also locks the row until its transaction ends: an occurrence being created and a DELETE of the same scheduled job
 * take turns.
 */
public final class ScheduledJobStore {

    private static final String COLUMNS = "scheduled_job_id, account_id, category, state, producer_endpoint_id,"
            + " destination_endpoint_id, definition, error_details, created, updated";

    private static final RowMapper<ScheduledJob> MAPPER = (rs, ctx) -> {
        JobCategory category = JobCategory.valueOf(rs.getString("category"));
        return new ScheduledJob(rs.getLong("scheduled_job_id"), rs.getLong("account_id"), category,
                ScheduledJob.State.valueOf(rs.getString("state")), rs.getLong("producer_endpoint_id"),
                rs.getObject("destination_endpoint_id", Long.class),
                JobDefinition.fromStored(rs.getString("definition"), category), rs.getString("error_details"),
                rs.getLong("created"), rs.getLong("updated"));
    };

    /** A job of a scheduled job, by the occurrence (Unix milliseconds) it is for. */
    public record OccurrenceJob(long jobId, long occurrence, JobStatus status) {
    }

    private final Jdbi jdbi;

    public ScheduledJobStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * Stores a new scheduled job, active, and in the same transaction lets `firstJobs` create the jobs of its first
     * occurrences ({@link OccurrenceJobs#begin}); answers what that answers.
     */
    public <T> T createScheduledJob(long accountId, JobCategory category, JobDefinition definition, long now,
                                    BiFunction<Handle, ScheduledJob, T> firstJobs) {
        return jdbi.inTransaction(h -> {
            long id = create(h, accountId, category, definition, now);
            ScheduledJob stored = new ScheduledJob(id, accountId, category, ScheduledJob.State.SCHEDULED,
                    definition.producerEndpointId(), definition.destinationEndpointId(), definition, null, now, now);
            return firstJobs.apply(h, stored);
        });
    }

    /**
     * Runs `occurrence` in one transaction on the scheduled job, locked ({@link #lockIfActive}), if it is still
     * active; empty once it is over or deleted.
     */
    public <T> Optional<T> whileActive(long scheduledJobId, long now, BiFunction<Handle, ScheduledJob, Optional<T>> occurrence) {
        return jdbi.inTransaction(h -> {
            Optional<ScheduledJob> active = lockIfActive(h, scheduledJobId, now);
            return active.isEmpty() ? Optional.<T>empty() : occurrence.apply(h, active.get());
        });
    }

    /** The schedule is over: no more occurrences. */
    public void complete(long scheduledJobId, long now) {
        jdbi.useTransaction(h -> complete(h, scheduledJobId, now));
    }

    /** Deletes a scheduled job ({@link #cancel(Handle, long, long)}); false when it was already deleted. */
    public boolean cancel(long scheduledJobId, long now) {
        return jdbi.inTransaction(h -> cancel(h, scheduledJobId, now));
    }

    /** Stores a new scheduled job, active; answers its id. */
    private long create(Handle h, long accountId, JobCategory category, JobDefinition definition, long now) {
        long id = h.createQuery("SELECT nextval('exchange_scheduled_job_seq')").mapTo(Long.class).one();
        h.createUpdate("INSERT INTO exchange_scheduled_job (scheduled_job_id, account_id, category, state,"
                        + " producer_endpoint_id, destination_endpoint_id, definition, created, updated)"
                        + " VALUES (:id, :account, :category, 'SCHEDULED', :producer, :destination, :definition, :now, :now)")
                .bind("id", id).bind("account", accountId).bind("category", category.name())
                .bind("producer", definition.producerEndpointId()).bind("destination", definition.destinationEndpointId())
                .bind("definition", definition.toJson().toString()).bind("now", now)
                .execute();
        return id;
    }

    /** A scheduled job of the account that was not deleted. */
    public Optional<ScheduledJob> find(long accountId, long scheduledJobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_scheduled_job"
                        + " WHERE scheduled_job_id = :id AND account_id = :a AND state <> 'CANCELLED'")
                .bind("id", scheduledJobId).bind("a", accountId).map(MAPPER).findOne());
    }

    /** The account's scheduled jobs of a category that were not deleted, optionally those an endpoint is party to. */
    public List<ScheduledJob> list(long accountId, JobCategory category, Long endpointId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_scheduled_job"
                        + " WHERE account_id = :a AND category = :c AND state <> 'CANCELLED'"
                        + (endpointId == null ? "" : " AND (producer_endpoint_id = :e OR destination_endpoint_id = :e)")
                        + " ORDER BY scheduled_job_id")
                .bind("a", accountId).bind("c", category.name()).bind("e", endpointId)
                .map(MAPPER).list());
    }

    /**
     * The scheduled job if it is still active, locked for the rest of the transaction (a guarded UPDATE: portable,
     * and it waits for a DELETE in progress); empty once it is over or deleted.
     */
    private Optional<ScheduledJob> lockIfActive(Handle h, long scheduledJobId, long now) {
        int locked = h.createUpdate("UPDATE exchange_scheduled_job SET updated = :now"
                        + " WHERE scheduled_job_id = :id AND state = 'SCHEDULED'")
                .bind("id", scheduledJobId).bind("now", now).execute();
        if (locked == 0) {
            return Optional.empty();
        }
        return h.createQuery("SELECT " + COLUMNS + " FROM exchange_scheduled_job WHERE scheduled_job_id = :id")
                .bind("id", scheduledJobId).map(MAPPER).findOne();
    }

    /** The schedule is over: no more occurrences. */
    public void complete(Handle h, long scheduledJobId, long now) {
        h.createUpdate("UPDATE exchange_scheduled_job SET state = 'COMPLETE', updated = :now"
                        + " WHERE scheduled_job_id = :id AND state = 'SCHEDULED'")
                .bind("id", scheduledJobId).bind("now", now).execute();
    }

    public void noteError(Handle h, long scheduledJobId, String errorDetails, long now) {
        h.createUpdate("UPDATE exchange_scheduled_job SET error_details = :e, updated = :now WHERE scheduled_job_id = :id")
                .bind("id", scheduledJobId).bind("e", errorDetails).bind("now", now).execute();
    }

    /**
     * Deletes a scheduled job: it becomes CANCELLED (no longer shown, its occurrences do nothing) and so do its jobs
     * still SCHEDULED. False when it was already deleted.
     */
    private boolean cancel(Handle h, long scheduledJobId, long now) {
        int cancelled = h.createUpdate("UPDATE exchange_scheduled_job SET state = 'CANCELLED', updated = :now"
                        + " WHERE scheduled_job_id = :id AND state <> 'CANCELLED'")
                .bind("id", scheduledJobId).bind("now", now).execute();
        if (cancelled == 0) {
            return false;
        }
        h.createUpdate("UPDATE exchange_job SET status = 'CANCELLED', error_details = :why, updated = :now, ended = :now"
                        + " WHERE scheduled_job_id = :id AND status = 'SCHEDULED'")
                .bind("id", scheduledJobId).bind("now", now)
                .bind("why", "Scheduled job " + scheduledJobId + " was deleted before this occurrence.")
                .execute();
        return true;
    }

    /** The scheduled job's jobs still SCHEDULED, and the one for `occurrence` whatever its status, by occurrence. */
    public List<OccurrenceJob> scheduledOrAt(Handle h, long scheduledJobId, long occurrence) {
        return h.createQuery("SELECT job_id, occurrence, status FROM exchange_job WHERE scheduled_job_id = :id"
                        + " AND (status = 'SCHEDULED' OR occurrence = :o) ORDER BY occurrence")
                .bind("id", scheduledJobId).bind("o", occurrence)
                .map((rs, ctx) -> new OccurrenceJob(rs.getLong(1), rs.getLong(2), JobStatus.valueOf(rs.getString(3))))
                .list();
    }

    /** A SCHEDULED job's occurrence has come: it waits for data from now on. False when it was not SCHEDULED. */
    public boolean start(Handle h, long jobId, long now) {
        return h.createUpdate("UPDATE exchange_job SET status = 'WAITING_TO_RECIEVE_DATA', started = :now, updated = :now"
                        + " WHERE job_id = :id AND status = 'SCHEDULED'")
                .bind("id", jobId).bind("now", now).execute() == 1;
    }

    /** The ids of a scheduled job's jobs, by occurrence. */
    public List<Long> jobIds(long scheduledJobId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT job_id FROM exchange_job WHERE scheduled_job_id = :id"
                        + " ORDER BY occurrence")
                .bind("id", scheduledJobId).mapTo(Long.class).list());
    }

    /** An active scheduled job without a task instance of `taskName`, with its earliest SCHEDULED occurrence. */
    public record Orphan(ScheduledJob scheduledJob, Long nextOccurrence) {
    }

    /**
     * Active scheduled jobs that have no db-scheduler instance (a node died between storing one and scheduling it),
     * each with the occurrence its SCHEDULED job is for (null if it has none).
     */
    public List<Orphan> activeWithoutInstance(String taskName) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + ", (SELECT MIN(j.occurrence) FROM exchange_job j"
                        + " WHERE j.scheduled_job_id = s.scheduled_job_id AND j.status = 'SCHEDULED') AS next_occurrence"
                        + " FROM exchange_scheduled_job s WHERE s.state = 'SCHEDULED' AND NOT EXISTS (SELECT 1 FROM"
                        + " scheduled_tasks t WHERE t.task_name = :task"
                        + " AND t.task_instance = CAST(s.scheduled_job_id AS VARCHAR(20)))"
                        + " ORDER BY s.scheduled_job_id")
                .bind("task", taskName)
                .map((rs, ctx) -> new Orphan(MAPPER.map(rs, ctx), rs.getObject("next_occurrence", Long.class)))
                .list());
    }
}
