package idex.exchange.jobs.http;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.model.UploadProgress;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.exchange.jobs.engine.JobProcessor;
import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.EndpointStore;
import idex.files.AlignedFileOutput;
import idex.http.ApiServer;
import idex.http.ErrorAnswers;
import idex.http.Feature;
import io.vertx.ext.web.Router;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.LongSupplier;

/**
 * `POST /v1/jobs/{jobId}/data`: the producer's CSV, streamed to a file as it arrives (a multi-gigabyte upload
 * never sits in memory), checked, then accepted in one transaction that moves the job from
 * WAITING_TO_RECIEVE_DATA to PENDING. A refused or interrupted upload leaves the job waiting. While the upload
 * arrives, a run may already process it ({@link JobProcessor#follow}); that run gets the job only in the acceptance's
 * transaction.
 */
public final class JobUpload implements Feature {

    private static final Logger LOG = LoggerFactory.getLogger(JobUpload.class);
    private static final String PATH = "/v1/jobs/:jobId/data";

    private final Vertx vertx;
    private final ExchangeApi api;
    private final VisibleJobs visible;
    private final JobStore jobs;
    private final JobFiles files;
    private final EndpointStore endpoints;
    private final LongSupplier clock;
    /** Follows an upload as it arrives, and is woken by each accepted one so that processing starts at once. */
    private final JobProcessor processor;

    public JobUpload(Vertx vertx, ExchangeApi api, JobStore jobs, JobFiles files,
                     EndpointStore endpoints, LongSupplier clock, JobProcessor processor) {
        this.vertx = vertx;
        this.api = api;
        this.visible = new VisibleJobs(jobs);
        this.jobs = jobs;
        this.files = files;
        this.endpoints = endpoints;
        this.clock = clock;
        this.processor = processor;
    }

    @Override
    public void mount(Router router) {
        router.post(PATH).handler(this::upload);
        ApiServer.onlyMethods(router, PATH, "POST");
    }

    private void upload(RoutingContext ctx) {
        Caller caller = api.authenticateBeforeBody(ctx);
        if (caller == null) {
            return;
        }
        ctx.request().pause();
        String jobIdText = ctx.pathParam("jobId");
        vertx.executeBlocking(() -> waitingJob(caller, jobIdText), false).onComplete(ar -> {
            if (ar.failed()) {
                refuse(ctx, ar.cause(), false);
            } else {
                receive(ctx, ar.result());
            }
        });
    }

    private Job waitingJob(Caller caller, String jobIdText) {
        Job job = visible.find(caller, jobIdText);
        if (!caller.actsFor(job.producerEndpointId())) {
            throw Refusal.forbidden("Only the job's source endpoint (or an account-level key) uploads its data.");
        }
        if (job.status() != JobStatus.WAITING_TO_RECIEVE_DATA) {
            throw Refusal.conflict("Job " + job.jobId() + " is " + job.status() + ", not WAITING_TO_RECIEVE_DATA: it"
                    + " takes no more data.");
        }
        return job;
    }

    private void receive(RoutingContext ctx, Job job) {
        boolean gzip = "gzip".equalsIgnoreCase(ctx.request().getHeader("Content-Encoding"));
        Path part = files.partial(job.jobId());
        if ("100-continue".equalsIgnoreCase(ctx.request().getHeader("Expect"))) {
            // Only now that the job takes data: a client that waits for this sends no body to a refused upload.
            ctx.response().writeContinue();
        }
        UploadProgress[] progress = {UploadProgress.NONE};
        UploadFileWrites[] writes = {null};
        vertx.executeBlocking(() -> new AlignedFileOutput(files.io(), part), false)
                .compose(file -> vertx.executeBlocking(() -> processor.follow(job, part, gzip), false)
                        .recover(e -> {
                            file.abandon();
                            return Future.failedFuture(e);
                        })
                        .compose(p -> {
                            progress[0] = p;
                            writes[0] = new UploadFileWrites(vertx, file, p);
                            return ctx.request().pipeTo(writes[0]);
                        }))
                .onComplete(piped -> {
                    if (piped.failed()) {
                        progress[0].refused();
                        if (writes[0] != null) {
                            writes[0].abandon(part);
                        } else {
                            vertx.executeBlocking(() -> {
                                JobFiles.deleteQuietly(part);
                                return null;
                            }, false);
                        }
                        LOG.info("Upload to job {} cut off: {}", job.jobId(), piped.cause().toString());
                        refuse(ctx, Refusal.invalid("The upload was cut off before its end; send it again."), false);
                        return;
                    }
                    vertx.executeBlocking(() -> accept(job, part, gzip, progress[0]), false).onComplete(ar -> {
                        if (ar.failed()) {
                            refuse(ctx, ar.cause(), true);
                        } else {
                            ctx.response().putHeader("Content-Type", "application/json").end(Long.toString(job.jobId()));
                        }
                    });
                });
    }

    private long accept(Job job, Path part, boolean gzip, UploadProgress progress) throws Exception {
        try {
            UploadCheck.check(part, gzip, endpoints.require(job.accountId(), job.producerEndpointId()).registration(),
                    job.producerEndpointId());
            if (gzip) {
                UploadCheck.checkGzipEnd(part);
            }
            // A name of its own: a concurrent upload that loses the race below must not touch the winner's file.
            String name = part.getFileName().toString().replace(".part", gzip ? ".csv.gz" : ".csv");
            Path target = files.upload(job.jobId(), name);
            JobFiles.sync(part); // on disk before the job says it has data
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            boolean accepted = jobs.acceptUpload(job.jobId(), name, progress, clock.getAsLong());
            if (!accepted) {
                // Another upload or a fail call won the race: this file is not the job's.
                JobFiles.deleteQuietly(target);
                throw Refusal.conflict("Job " + job.jobId() + " no longer waits for data: another upload or a"
                        + " status change came first.");
            }
            progress.accepted(target);
            processor.wake();
            return job.jobId();
        } catch (Exception | Error e) {
            progress.refused();
            throw e;
        } finally {
            JobFiles.deleteQuietly(part);
        }
    }

    private static void refuse(RoutingContext ctx, Throwable cause, boolean bodyRead) {
        if (bodyRead) {
            ErrorAnswers.send(ctx, cause);
        } else {
            ErrorAnswers.sendDroppingBody(ctx, cause);
        }
    }
}
