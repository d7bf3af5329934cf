package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** `idex jobs …`: an operator's or an endpoint's side of jobs, through a running server's exchange API. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "Jobs through the exchange API of a running server (--url, --key).",
        subcommands = {JobsCommand.ListJobs.class, CreateJobCommand.class, JobsCommand.Upload.class,
                JobsCommand.Download.class},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {
                "0:done",
                "1:the server refused (the message says why), or the job is not in the state the command needs",
                "2:bad input: no key, a bad URL, a missing file",
                "3:the server could not be reached, or a transfer broke off (run the command again to resume)"})
public final class JobsCommand {

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (?:(\\d+)-(\\d+)|\\*)/(\\d+)");

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List jobs of a category, optionally of one status or endpoint.")
    static final class ListJobs extends ExchangeCommand {
        @Option(names = "--category", defaultValue = "SEGMENT_EXPORT",
                description = "SEGMENT_EXPORT, IDENTITY_IMPORT or SEGMENT_POPULATE_DB (default ${DEFAULT-VALUE}).")
        String category;
        @Option(names = "--status", description = "Only jobs in this status, e.g. READY_FOR_DOWNLOAD.")
        String status;
        @Option(names = "--endpoint", description = "Only jobs this endpoint produces or receives.")
        Long endpoint;
        @Option(names = "--json", description = "Print the server's JSON array, with started, ended and scheduleDetails.")
        boolean json;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure {
            StringBuilder path = new StringBuilder("/v1/jobs/").append(encode(category.toUpperCase(Locale.ROOT)))
                    .append("?extraFields=true");
            if (status != null) {
                path.append("&status=").append(encode(status.toUpperCase(Locale.ROOT)));
            }
            if (endpoint != null) {
                path.append("&endpointId=").append(endpoint);
            }
            JsonNode jobs = api.json("GET", path.toString());
            if (json) {
                System.out.println(Json.write(jobs));
                return ExitCodes.SUCCESS;
            }
            String format = "%-10s %-24s %-9s %-11s %12s %12s %6s%n";
            System.out.printf(format, "JOB", "STATUS", "PRODUCER", "DESTINATION", "SOURCE ROWS", "DEST ROWS", "FILES");
            for (JsonNode j : jobs) {
                System.out.printf(format, j.path("jobId").asText(), j.path("status").asText(),
                        text(j.path("producerEndpointID")), text(j.path("destinationEndpointID")),
                        text(j.path("sourceRecordCount")), text(j.path("destinationRecordCount")),
                        j.path("segmentDataFiles").size());
            }
            return ExitCodes.SUCCESS;
        }

        private static String text(JsonNode n) {
            return n.isMissingNode() || n.isNull() ? "-" : n.asText();
        }
    }

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = {"Upload a CSV file to a job waiting for data (POST /v1/jobs/{jobId}/data); the job then"
                    + " goes PENDING.",
                    "The file is streamed, never read whole into memory. A FILE ending in .gz is sent as it is, with"
                            + " Content-Encoding: gzip; --gzip compresses any other file on the fly."})
    static final class Upload extends ExchangeCommand {
        @Parameters(index = "0", paramLabel = "JOB_ID", description = "The job waiting for data.")
        long jobId;
        @Parameters(index = "1", paramLabel = "FILE", description = "CSV file (UTF-8, header row), or gzipped CSV (.gz).")
        Path file;
        @Option(names = "--gzip", description = "Compress the upload on the fly (sent with Content-Encoding: gzip).")
        boolean gzip;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure, IOException {
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new CommandFailure(ExitCodes.BAD_INPUT, "No readable file " + file + ".");
            }
            long size = Files.size(file);
            boolean alreadyGzip = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
            boolean compress = gzip && !alreadyGzip;
            Progress progress = Progress.start("job " + jobId + " upload", size, 0);
            HttpRequest.BodyPublisher streamed = HttpRequest.BodyPublishers.ofInputStream(() -> {
                try {
                    InputStream in = progress.counting(Files.newInputStream(file));
                    return compress ? new GzipEncodingStream(in) : in;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            HttpRequest.Builder request = api.request("/v1/jobs/" + jobId + "/data")
                    .header("Content-Type", "text/csv; charset=utf-8")
                    // No Expect: 100-continue: the JDK 17 client can hang on a refusal that answers it. A refusal (bad
                    // key, unknown job, job not waiting) arrives while the body is sent, and is what send() answers.
                    .POST(compress ? streamed : HttpRequest.BodyPublishers.fromPublisher(streamed, size));
            if (compress || alreadyGzip) {
                request.header("Content-Encoding", "gzip");
            }
            HttpResponse<byte[]> r;
            try {
                r = api.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (CommandFailure cut) {
                throw whyRefused(api, jobId, cut);
            }
            progress.finish();
            if (r.statusCode() != 200) {
                throw ExchangeApiClient.refused(r.statusCode(), r.body());
            }
            System.out.println("uploaded " + size + " bytes of " + file.getFileName() + " to job " + jobId
                    + (compress ? " (gzipped on the fly)" : alreadyGzip ? " (gzip)" : ""));
            return ExitCodes.SUCCESS;
        }
    }

    /**
     * A server that refuses an upload (bad key, unknown job, job not waiting) answers at once and closes the connection
     * while the client may still be sending, so the client can see a broken connection instead of the answer. Asking
     * again with an empty body gets the same refusal, readably; an empty body changes nothing on the server.
     */
    private static CommandFailure whyRefused(ExchangeApiClient api, long jobId, CommandFailure cut) {
        if (cut.exitCode() != ExitCodes.CONNECTION_FAILED) {
            return cut;
        }
        try {
            HttpResponse<byte[]> probe = api.send(api.request("/v1/jobs/" + jobId + "/data")
                    .header("Content-Type", "text/csv; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
            int status = probe.statusCode();
            return status == 401 || status == 403 || status == 404 || status == 409
                    ? ExchangeApiClient.refused(status, probe.body()) : cut;
        } catch (CommandFailure unreachable) {
            return cut;
        }
    }

    @Command(name = "download", mixinStandardHelpOptions = true,
            description = {"Download every segment data file of a job ready for download into DIR, then mark the"
                    + " job complete (which deletes its files on the server).",
                    "Each file is written to NAME.part and renamed once whole; a .part left by a cut download is"
                            + " resumed with a range request, and a file already in DIR is kept as it is."})
    static final class Download extends ExchangeCommand {
        @Parameters(index = "0", paramLabel = "JOB_ID", description = "A SEGMENT_EXPORT job in READY_FOR_DOWNLOAD.")
        long jobId;
        @Parameters(index = "1", paramLabel = "DIR", description = "Directory to write the files to (created if needed).")
        Path dir;
        @Option(names = "--no-complete", description = "Leave the job READY_FOR_DOWNLOAD and its files on the server.")
        boolean noComplete;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure, IOException {
            JsonNode job = api.json("GET", "/v1/jobs/SEGMENT_EXPORT/" + jobId).path(0);
            String status = job.path("status").asText();
            if (!"READY_FOR_DOWNLOAD".equals(status)) {
                throw new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, "Job " + jobId + " is " + status
                        + ", not READY_FOR_DOWNLOAD: " + ("COMPLETE".equals(status)
                        ? "its files were downloaded and deleted." : "there is nothing to download now."));
            }
            List<String> names = new ArrayList<>();
            for (JsonNode n : job.path("segmentDataFiles")) {
                names.add(safeName(n.asText()));
            }
            Files.createDirectories(dir);
            long total = 0;
            for (String name : names) {
                total += fetch(api, name);
            }
            System.out.println("job " + jobId + ": " + names.size() + " file(s), " + total + " bytes in " + dir);
            if (noComplete) {
                return ExitCodes.SUCCESS;
            }
            JsonNode completed = api.json("PUT", "/v1/jobs/" + jobId + "/status/complete");
            if (!completed.asBoolean(false)) {
                throw new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, "The files are in " + dir + ", but the server"
                        + " did not complete job " + jobId + ": it is no longer READY_FOR_DOWNLOAD.");
            }
            System.out.println("job " + jobId + " is COMPLETE");
            return ExitCodes.SUCCESS;
        }

        /** Downloads one file (resuming its .part); answers its size. */
        private long fetch(ExchangeApiClient api, String name) throws CommandFailure, IOException {
            Path target = dir.resolve(name);
            if (Files.exists(target)) {
                System.out.println(name + ": already in " + dir + ", kept");
                return Files.size(target);
            }
            Path part = dir.resolve(name + ".part");
            long have = Files.isRegularFile(part) ? Files.size(part) : 0;
            String path = "/v1/jobs/" + jobId + "/segmentDataFiles/" + encode(name);
            HttpRequest.Builder request = api.request(path).GET();
            if (have > 0) {
                request.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> r = api.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            long size;
            long from;
            switch (r.statusCode()) {
                case 200 -> {
                    from = 0;
                    size = r.headers().firstValueAsLong("Content-Length").orElse(-1);
                }
                case 206 -> {
                    long[] range = contentRange(r).orElseThrow(() -> badAnswer(name, "a 206 without Content-Range"));
                    if (range[0] != have) {
                        r.body().close();
                        throw badAnswer(name, "bytes from " + range[0] + " when asked from " + have);
                    }
                    from = have;
                    size = range[2];
                }
                case 416 -> {
                    // The .part holds at least the whole file: whole if the sizes agree, else start over.
                    r.body().close();
                    long[] range = contentRange(r).orElse(new long[]{-1, -1, -1});
                    if (range[2] != have) {
                        Files.delete(part);
                        return fetch(api, name);
                    }
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
                    System.out.println(name + ": " + have + " bytes (already whole)");
                    return have;
                }
                default -> throw ExchangeApiClient.refused(r.statusCode(), r.body());
            }
            Progress progress = Progress.start(name, size, from);
            try (InputStream in = r.body();
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         from == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    progress.add(n);
                }
            } catch (IOException e) {
                progress.finish();
                throw new CommandFailure(ExitCodes.CONNECTION_FAILED, "The download of " + name + " broke off at "
                        + progress.done() + " of " + size + " bytes (" + e.getMessage() + "); run the command again to"
                        + " resume it.");
            }
            progress.finish();
            if (size >= 0 && progress.done() != size) {
                throw new CommandFailure(ExitCodes.CONNECTION_FAILED, "The download of " + name + " stopped at "
                        + progress.done() + " of " + size + " bytes; run the command again to resume it.");
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            System.out.println(name + ": " + progress.done() + " bytes" + (from > 0 ? " (resumed at " + from + ")" : ""));
            return progress.done();
        }

        /** A name to write under DIR: a server's list must not send a file elsewhere. */
        private String safeName(String name) throws CommandFailure {
            if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")
                    || name.indexOf('\0') >= 0) {
                throw new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, "Job " + jobId + " lists a file named '"
                        + name + "', which is not a plain file name; nothing was written.");
            }
            return name;
        }

        private CommandFailure badAnswer(String name, String what) {
            return new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, "The server answered " + what + " for " + name
                    + "; delete " + dir.resolve(name + ".part") + " and try again.");
        }
    }

    /** `Content-Range` as {first, last, size}; a 416's, which has no first and last, as {-1, -1, size}. */
    private static Optional<long[]> contentRange(HttpResponse<?> r) {
        Optional<String> header = r.headers().firstValue("Content-Range");
        if (header.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = CONTENT_RANGE.matcher(header.get().trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(m.group(1) == null ? new long[]{-1, -1, Long.parseLong(m.group(3))}
                : new long[]{Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
    }

    static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
