package idex.exchange.jobs.push;

import idex.errors.Refusal;
import idex.exchange.delivery.DeliveryLog;
import idex.exchange.delivery.JobDeliveryLog;
import idex.exchange.delivery.JobDeliveryRetry;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.jobs.store.JobFiles;
import org.jdbi.v3.core.Jdbi;

import java.nio.file.Files;
import java.util.List;
import java.util.Optional;

/**
 * `POST /v1/deliveries/{id}/retry` on a job's entry. A push export that ended in ERROR while delivering (its last
 * retry failed) is re-opened: RUNNING/DELIVERING again, due now with a fresh retry schedule, resuming at its first
 * undelivered file (kept on disk for this until the delivery log's retention). Anything else is a 409 saying why:
 * a pull producer's calls (its job goes on, or ended, by itself), an entry delivered, a job not in ERROR, files gone,
 * a destination that is no longer a push destination or is turned off.
 */
public final class PushRetry implements JobDeliveryRetry {

    private final Jdbi jdbi;
    private final EndpointStore endpoints;
    private final JobFiles files;
    private final JobDeliveryLog log;
    private final Runnable wakeJobs;

    public PushRetry(Jdbi jdbi, EndpointStore endpoints, JobFiles files, JobDeliveryLog log, Runnable wakeJobs) {
        this.jdbi = jdbi;
        this.endpoints = endpoints;
        this.files = files;
        this.log = log;
        this.wakeJobs = wakeJobs;
    }

    private record JobState(String status, String subStatus) {
    }

    @Override
    public void retry(JobDeliveryLog.Entry entry, long now) {
        long jobId = entry.jobId();
        if (entry.kind() == JobDeliveryLog.Kind.pullJob || entry.kind() == JobDeliveryLog.Kind.pullFile) {
            throw Refusal.conflict("Delivery " + entry.deliveryId() + " is a call to a pull producer for job " + jobId
                    + ": it is not retried from the log (a pull retries by itself until the pull timeout); create the"
                    + " job again to fetch the data again.");
        }
        if (entry.status() == DeliveryLog.Status.DELIVERED) {
            throw Refusal.conflict("Delivery " + entry.deliveryId() + " was delivered: the push destination accepted"
                    + " it, and a delivered file is never sent again.");
        }
        JobState job = jdbi.withHandle(h -> h.createQuery("SELECT status, sub_status FROM exchange_job"
                        + " WHERE job_id = :j AND account_id = :a")
                .bind("j", jobId).bind("a", entry.accountId())
                .map((rs, ctx) -> new JobState(rs.getString(1), rs.getString(2))).one());
        if (!"ERROR".equals(job.status()) || !PushDelivery.DELIVERING.equals(job.subStatus())) {
            throw Refusal.conflict("Job " + jobId + " is " + job.status()
                    + ("RUNNING".equals(job.status()) ? " (its delivery retries by itself)" : "")
                    + ": only a push export that ended in ERROR while delivering can be re-opened.");
        }
        Optional<Endpoint> destination = endpoints.find(entry.accountId(), entry.endpointId());
        if (destination.isEmpty() || !destination.get().registration().pushDestination()) {
            throw Refusal.conflict("Endpoint " + entry.endpointId() + " is no longer a push destination: job " + jobId
                    + " cannot be delivered to it; create the job again.");
        }
        if (destination.get().pushDisabled() != null) {
            throw Refusal.conflict("Push destination " + entry.endpointId() + " is turned off ("
                    + destination.get().pushDisabled() + "): PUT its registration first, then retry.");
        }
        List<String> undelivered = jdbi.withHandle(h -> h.createQuery("SELECT file_name FROM exchange_push_file"
                + " WHERE job_id = :j AND delivered IS NULL ORDER BY seq").bind("j", jobId).mapTo(String.class).list());
        if (undelivered.isEmpty()) {
            throw Refusal.conflict("The undelivered files of job " + jobId + " are no longer kept (the delivery log's"
                    + " retention passed): create the job again.");
        }
        for (String f : undelivered) {
            if (!Files.isRegularFile(files.outputFile(jobId, f))) {
                throw Refusal.conflict("File " + f + " of job " + jobId + " is gone from the server's files"
                        + " directory: the job cannot be re-opened; create it again.");
            }
        }
        int reopened = jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_job SET status = 'RUNNING',"
                        + " claimed_by = NULL, next_attempt = :now, push_failures = 0, attempts = 0, error_details = NULL,"
                        + " ended = NULL, updated = :now WHERE job_id = :j AND status = 'ERROR'"
                        + " AND sub_status = 'DELIVERING'")
                .bind("j", jobId).bind("now", now).execute());
        if (reopened != 1) {
            throw Refusal.conflict("Job " + jobId + " changed meanwhile: GET it and try again.");
        }
        log.reopen(jobId, now);
        wakeJobs.run();
    }
}
