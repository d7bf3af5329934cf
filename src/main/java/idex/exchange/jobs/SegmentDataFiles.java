package idex.exchange.jobs;

import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.files.AlignedFileInput;
import idex.http.ApiError;
import idex.http.ApiServer;
import idex.http.ByteRange;
import idex.http.FileBodyPump;
import idex.http.Reply;
import io.vertx.core.Vertx;
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
 * A download looks the job up and opens the file on the worker pool; a {@link FileBodyPump} then reads it there in
 * large chunks (direct I/O where available, see {@link idex.files.FileIo}) while the event loop sends the chunk before.
 * Files are immutable once registered (a processing run writes them before its final transaction names them), so
 * byte ranges of one file can be fetched in any order, and a cut download resumes with `Range: bytes=N-`.
 */
public final class SegmentDataFiles {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentDataFiles.class);
    private static final String PATH = "/v1/jobs/:jobId/segmentDataFiles/:fileName";

    private final Vertx vertx;
    private final ExchangeApi api;
    private final JobRoutes routes;
    private final JobStore jobs;
    private final JobFiles files;

    public SegmentDataFiles(Vertx vertx, ExchangeApi api, JobRoutes routes, JobStore jobs, JobFiles files) {
        this.vertx = vertx;
        this.api = api;
        this.routes = routes;
        this.jobs = jobs;
        this.files = files;
    }

    public void mount(Router router) {
        router.get(PATH).handler(this::download);
        router.delete(PATH).handler(api.handler(this::delete));
        ApiServer.onlyMethods(router, PATH, "GET, DELETE");
    }

    /** An output file found for one download. */
    private record FoundFile(Path path, long size, String etag) {
    }

    private void download(RoutingContext ctx) {
        Caller caller = api.authenticate(ctx);
        if (caller == null) {
            return;
        }
        String jobIdText = ctx.pathParam("jobId");
        String fileName = ctx.pathParam("fileName");
        vertx.executeBlocking(() -> find(caller, jobIdText, fileName), false).onComplete(ar -> {
            if (ar.failed()) {
                fail(ctx, ar.cause(), jobIdText, fileName);
            } else {
                send(ctx, ar.result(), jobIdText, fileName);
            }
        });
    }

    private static void fail(RoutingContext ctx, Throwable cause, String jobIdText, String fileName) {
        ApiError e = cause instanceof ApiError a ? a : new ApiError(500, "Internal server error.");
        if (!(cause instanceof ApiError)) {
            LOG.error("Download of {} from job {} failed", fileName, jobIdText, cause);
        }
        ExchangeApi.fail(ctx, e);
    }

    private FoundFile find(Caller caller, String jobIdText, String fileName) throws IOException {
        Job job = readyJob(caller, jobIdText, "Downloading segment data files");
        Path path = registered(job, fileName);
        try {
            long size = Files.size(path);
            long modified = Files.getLastModifiedTime(path).toMillis();
            // Strong validator: a file's bytes never change under its name, and a re-run would write a new file.
            String etag = "\"" + job.jobId() + "-" + Long.toString(size, 36) + "-" + Long.toString(modified, 36) + "\"";
            return new FoundFile(path, size, etag);
        } catch (NoSuchFileException e) {
            // Deleted between the lookup and now (a DELETE or completion won the race), or lost from the files dir.
            LOG.info("Segment data file {} of job {} is registered but not on disk", fileName, job.jobId());
            throw unknownFile(job.jobId(), fileName);
        }
    }

    private void send(RoutingContext ctx, FoundFile file, String jobIdText, String fileName) {
        HttpServerResponse response = ctx.response();
        Optional<ByteRange> range;
        try {
            range = honoursRange(ctx, file) ? ByteRange.parse(ctx.request().getHeader("Range"), file.size()) : Optional.empty();
        } catch (ByteRange.Unsatisfiable e) {
            response.putHeader("Content-Range", "bytes */" + file.size());
            ExchangeApi.fail(ctx, new ApiError(416, "The range is outside the file's " + file.size() + " bytes: ask"
                    + " for bytes=N- with N below " + file.size() + "."));
            return;
        }
        long offset = range.map(ByteRange::start).orElse(0L);
        long length = range.map(ByteRange::length).orElse(file.size());
        if (length == 0) {
            head(response, file, range, 0).end();
            return;
        }
        // Opened before the status line goes out: a file deleted meanwhile is still a clean 404.
        vertx.executeBlocking(() -> AlignedFileInput.open(files.io(), file.path(), offset, FileBodyPump.CHUNK), false).onComplete(ar -> {
            if (ar.failed()) {
                Throwable cause = ar.cause() instanceof NoSuchFileException
                        ? unknownFile(Long.parseLong(jobIdText), fileName) : ar.cause();
                fail(ctx, cause, jobIdText, fileName);
                return;
            }
            head(response, file, range, length);
            new FileBodyPump(vertx, ar.result(), response, length).start();
        });
    }

    private static HttpServerResponse head(HttpServerResponse response, FoundFile file, Optional<ByteRange> range,
                                           long length) {
        response.setStatusCode(range.isPresent() ? 206 : 200)
                .putHeader("Content-Type", "text/csv; charset=utf-8")
                .putHeader("Accept-Ranges", "bytes")
                .putHeader("ETag", file.etag())
                .putHeader("Content-Length", Long.toString(length));
        range.ifPresent(r -> response.putHeader("Content-Range", r.contentRange(file.size())));
        return response;
    }

    /** `If-Range` with the current ETag (or absent) lets a range through; anything else asks for the whole file. */
    private static boolean honoursRange(RoutingContext ctx, FoundFile file) {
        String ifRange = ctx.request().getHeader("If-Range");
        return ifRange == null || ifRange.trim().equals(file.etag());
    }

    private Reply delete(ApiRequest req) {
        Job job = readyJob(req.caller(), req.path("jobId"), "Deleting segment data files");
        String fileName = req.path("fileName");
        Path path = registered(job, fileName);
        int removed = jobs.jdbi().inTransaction(h -> h.createUpdate(
                        "DELETE FROM exchange_job_file WHERE job_id = :id AND file_name = :name")
                .bind("id", job.jobId()).bind("name", fileName).execute());
        if (removed == 0) {
            // a concurrent DELETE or completion removed it first
            throw unknownFile(job.jobId(), fileName);
        }
        // After the commit: a crash in between leaves only an unlisted file, which completion removes with its directory.
        JobFiles.deleteQuietly(path);
        return Reply.json(true);
    }

    /** The job if the caller may fetch its files: 404 unknown or not the caller's, 403 its source, 409 not ready. */
    private Job readyJob(Caller caller, String jobIdText, String what) {
        Job job = routes.visible(caller, JobRoutes.parseId(jobIdText));
        JobRoutes.requireParty(caller, job.destinationEndpointId(), what, "destination");
        if (job.status() != JobStatus.READY_FOR_DOWNLOAD) {
            throw ApiError.conflict("Job " + job.jobId() + " is " + job.status() + ", not READY_FOR_DOWNLOAD: "
                    + (job.status() == JobStatus.COMPLETE ? "it was completed and its files deleted."
                    : "it has no files to download" + (job.status().isFinal() ? "." : " yet; ask again when it is ready.")));
        }
        return job;
    }

    /** Where a file registered for the job lives; 404 for a name the job does not list. */
    private Path registered(Job job, String fileName) {
        Path dir = files.outputDir(job.jobId());
        Path path = files.outputFile(job.jobId(), fileName);
        if (!job.files().contains(fileName) || !dir.equals(path.getParent())) {
            throw unknownFile(job.jobId(), fileName);
        }
        return path;
    }

    private static ApiError unknownFile(long jobId, String fileName) {
        return ApiError.notFound("Job " + jobId + " has no segment data file '" + fileName + "': its segmentDataFiles"
                + " list the names there are.");
    }
}
