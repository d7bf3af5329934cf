package idex.exchange.jobs.http;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.files.AlignedFileInput;
import idex.http.ApiError;
import idex.http.ApiServer;
import idex.http.ByteRange;
import idex.http.ErrorAnswers;
import idex.http.Feature;
import idex.http.FileBodyPump;
import idex.http.Reply;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A pull destination's side of a job (seed 004, spec §4.4): `GET /v1/jobs/{jobId}/segmentDataFiles/{fileName}`
 * streams one output file, `DELETE` removes one. Only for a job in READY_FOR_DOWNLOAD, by its destination's key or
 * an account key.
 *
 * A download looks the job up, decides the range and opens the file on the worker pool, in one go; a
 * {@link FileBodyPump} then hands the connection the file's chunks as they are read ahead (direct I/O where available,
 * see {@link idex.files.FileIo}).
 * Files are immutable once registered (a processing run writes them before its final transaction names them), so
 * byte ranges of one file can be fetched in any order, and a cut download resumes with `Range: bytes=N-`.
 */
public final class SegmentDataFiles implements Feature {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentDataFiles.class);
    private static final String PATH = "/v1/jobs/:jobId/segmentDataFiles/:fileName";

    private final Vertx vertx;
    private final ExchangeApi api;
    private final VisibleJobs visible;
    private final JobStore jobs;
    private final JobFiles files;

    public SegmentDataFiles(Vertx vertx, ExchangeApi api, JobStore jobs, JobFiles files) {
        this.vertx = vertx;
        this.api = api;
        this.visible = new VisibleJobs(jobs);
        this.jobs = jobs;
        this.files = files;
    }

    @Override
    public void mount(Router router) {
        router.get(PATH).handler(this::download);
        router.delete(PATH).handler(api.handler(this::delete));
        ApiServer.onlyMethods(router, PATH, "GET, DELETE");
    }

    /**
     * A download made ready on the worker pool: the range asked for, and the file opened there (null: nothing to send,
     * for an empty range or a HEAD).
     */
    private record Download(long size, String etag, Optional<ByteRange> range, long length, AlignedFileInput in) {
    }

    /** A range outside the file: 416, naming the file's size. */
    private static final class OutsideTheFile extends Exception {
        final long size;

        OutsideTheFile(long size) {
            super(null, null, false, false);
            this.size = size;
        }
    }

    private void download(RoutingContext ctx) {
        Caller caller = api.authenticate(ctx);
        if (caller == null) {
            return;
        }
        String jobIdText = ctx.pathParam("jobId");
        String fileName = ctx.pathParam("fileName");
        String rangeHeader = ctx.request().getHeader("Range");
        String ifRange = ctx.request().getHeader("If-Range");
        // HEAD (a download tool probing the size) answers GET's headers without opening the file.
        boolean withBody = ctx.request().method() != HttpMethod.HEAD;
        vertx.executeBlocking(() -> prepare(caller, jobIdText, fileName, rangeHeader, ifRange, withBody), false).onComplete(ar -> {
            if (ar.succeeded()) {
                send(ctx.response(), ar.result());
            } else if (ar.cause() instanceof OutsideTheFile e) {
                ctx.response().putHeader("Content-Range", "bytes */" + e.size);
                ErrorAnswers.send(ctx, new ApiError(416, "The range is outside the file's " + e.size + " bytes: ask"
                        + " for bytes=N- with N below " + e.size + "."));
            } else {
                ErrorAnswers.send(ctx, ar.cause());
            }
        });
    }

    /** Finds the file, decides the range and opens the file there, before the status line goes out. */
    private Download prepare(Caller caller, String jobIdText, String fileName, String rangeHeader, String ifRange,
                             boolean withBody) throws IOException, OutsideTheFile {
        Job job = readyJob(caller, jobIdText, "Downloading segment data files");
        Path path = registered(job, fileName);
        try {
            long size = Files.size(path);
            long modified = Files.getLastModifiedTime(path).toMillis();
            // Strong validator: a file's bytes never change under its name, and a re-run would write a new file.
            String etag = "\"" + job.jobId() + "-" + Long.toString(size, 36) + "-" + Long.toString(modified, 36) + "\"";
            // `If-Range` with the current ETag (or absent) lets a range through; anything else asks for the whole file.
            Optional<ByteRange> range;
            try {
                range = ifRange == null || ifRange.trim().equals(etag) ? ByteRange.parse(rangeHeader, size)
                        : Optional.empty();
            } catch (ByteRange.Unsatisfiable e) {
                throw new OutsideTheFile(size);
            }
            long length = range.map(ByteRange::length).orElse(size);
            AlignedFileInput in = length == 0 || !withBody ? null
                    : AlignedFileInput.open(files.io(), path, range.map(ByteRange::start).orElse(0L), FileBodyPump.CHUNK);
            return new Download(size, etag, range, length, in);
        } catch (NoSuchFileException e) {
            // Deleted between the lookup and now (a DELETE or completion won the race), or lost from the files dir.
            LOG.info("Segment data file {} of job {} is registered but not on disk", fileName, job.jobId());
            throw unknownFile(job.jobId(), fileName);
        }
    }

    private void send(HttpServerResponse response, Download d) {
        response.setStatusCode(d.range().isPresent() ? 206 : 200)
                .putHeader("Content-Type", "text/csv; charset=utf-8")
                .putHeader("Accept-Ranges", "bytes")
                .putHeader("ETag", d.etag())
                .putHeader("Content-Length", Long.toString(d.length()));
        d.range().ifPresent(r -> response.putHeader("Content-Range", r.contentRange(d.size())));
        if (d.in() == null) {
            response.end();
        } else {
            new FileBodyPump(vertx, d.in(), response, d.length()).start();
        }
    }

    private Reply delete(ApiRequest req) {
        Job job = readyJob(req.caller(), req.path("jobId"), "Deleting segment data files");
        String fileName = req.path("fileName");
        Path path = registered(job, fileName);
        if (!jobs.removeFile(job.jobId(), fileName)) {
            // a concurrent DELETE or completion removed it first
            throw unknownFile(job.jobId(), fileName);
        }
        // After the commit: a crash in between leaves only an unlisted file, which completion removes with its directory.
        JobFiles.deleteQuietly(path);
        return Reply.json(true);
    }

    /** The job if the caller may fetch its files: 404 unknown or not the caller's, 403 its source, 409 not ready. */
    private Job readyJob(Caller caller, String jobIdText, String what) {
        Job job = visible.find(caller, jobIdText);
        caller.requireActingFor(job.destinationEndpointId(), what, "destination");
        if (job.status() != JobStatus.READY_FOR_DOWNLOAD) {
            throw Refusal.conflict("Job " + job.jobId() + " is " + job.status() + ", not READY_FOR_DOWNLOAD: "
                    + (job.status() == JobStatus.COMPLETE ? "it was completed and its files deleted."
                    : "it has no files to download" + (job.status().isFinal() ? "." : " yet; ask again when it is ready.")));
        }
        return job;
    }

    /**
     * Where a file registered for the job lives; 404 for a name the job does not list. The name is looked up before it
     * becomes a path: names the file system cannot take (a NUL) are then simply not there.
     */
    private Path registered(Job job, String fileName) {
        if (!job.files().contains(fileName)) {
            throw unknownFile(job.jobId(), fileName);
        }
        Path path = files.outputFile(job.jobId(), fileName);
        if (!files.outputDir(job.jobId()).equals(path.getParent())) {
            throw unknownFile(job.jobId(), fileName);
        }
        return path;
    }

    private static Refusal unknownFile(long jobId, String fileName) {
        return Refusal.notFound("Job " + jobId + " has no segment data file '" + fileName + "': its segmentDataFiles"
                + " list the names there are.");
    }
}
