package idex.exchange.jobs.http;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.store.JobStore;
import idex.errors.Refusal;
import idex.exchange.accounts.Caller;
import idex.http.PositiveId;

/**
 * The jobs a caller may see: its account's, and for an endpoint key those its endpoint produces or receives. Any
 * other job is 404, as if it did not exist; so is an id that is not one.
 */
public final class VisibleJobs {

    private final JobStore jobs;

    public VisibleJobs(JobStore jobs) {
        this.jobs = jobs;
    }

    /** The job a path's `jobId` names. */
    public Job find(Caller caller, String jobIdText) {
        long jobId = PositiveId.parse(jobIdText).orElseThrow(() -> Refusal.notFound("There is no job " + jobIdText + "."));
        Job job = jobs.find(caller.accountId(), jobId).orElseThrow(() -> unknown(jobId));
        if (!caller.isPartyTo(job.producerEndpointId(), job.destinationEndpointId())) {
            throw unknown(jobId);
        }
        return job;
    }

    static Refusal unknown(long jobId) {
        return Refusal.notFound("There is no job " + jobId + " in this account.");
    }
}
