package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.model.RunResult;
import idex.exchange.jobs.push.PushDelivery;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.CsvReader;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.filters.IdentityFilterRules;
import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Rejection;
import idex.exchange.identity.Resolution;
import idex.exchange.jobs.translate.BadRow;
import idex.exchange.jobs.translate.InvalidMappingException;
import idex.exchange.jobs.translate.JobMapping;
import idex.exchange.jobs.translate.RowTranslation;
import idex.exchange.jobs.translate.RowTranslator;
import idex.exchange.jobs.translate.SkipReason;
import idex.exchange.jobs.translate.SkippedRows;
import idex.exchange.jobs.translate.TranslationCounts;
import idex.exchange.jobs.translate.UidSnapshot;
import idex.files.AlignedFileInput;
import idex.files.FileIo;
import idex.uid2.Uid2Scope;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;

/**
 * One processing run of a claimed job (spec §4.3): reads the upload once, translates it, and ends the job in one
 * final transaction. A SEGMENT_EXPORT writes segment data files, registers them and becomes READY_FOR_DOWNLOAD (and
 * with `updateIdentities` spawns its SEGMENT_POPULATE_DB job in that same transaction); an IDENTITY_IMPORT or a
 * SEGMENT_POPULATE_DB resolves the rows into the identity store and becomes COMPLETE.
 *
 * <p>Why a crash at any point is safe: nothing a run writes counts until its final transaction, which is guarded by
 * this node's claim. Output files are written under fresh names and registered only there (the next run starts by
 * emptying the output directory). The identity store is fed in batches that each commit, but resolving a record a
 * second time adds nothing — its identifiers are already on its x1 — so a run that starts again gives the same graph,
 * and the counts come from the run that finishes.
 */
final class JobRunner {

    /** Rows resolved into the identity store per transaction. */
    static final int RESOLVE_BATCH = 1000;
    /** Rows between two checks that this node still holds the job. */
    private static final int CHECK_EVERY = 10_000;
    private static final int LISTED_REJECTIONS = RowTranslator.LISTED_BAD_ROWS;

    private final JobStore jobs;
    private final EndpointStore endpoints;
    private final IdentityStore identities;
    private final IdentityFilterRules filters;
    private final JobFiles files;
    private final Supplier<UidSnapshot> uids;
    private final Uid2Scope scope;
    private final int rowsPerFile;
    private final PushDelivery push;
    private final LongSupplier clock;

    JobRunner(JobStore jobs, EndpointStore endpoints, IdentityStore identities, IdentityFilterRules filters,
              JobFiles files, Supplier<UidSnapshot> uids, Uid2Scope scope, int rowsPerFile, PushDelivery push,
              LongSupplier clock) {
        this.jobs = jobs;
        this.endpoints = endpoints;
        this.identities = identities;
        this.filters = filters;
        this.files = files;
        this.uids = uids;
        this.scope = scope;
        this.rowsPerFile = rowsPerFile;
        this.push = push;
        this.clock = clock;
    }

    /** Thrown inside a run when its node no longer holds the job (or is stopping): the run stops, changing nothing. */
    static final class ClaimLost extends RuntimeException {
        ClaimLost() {
            super("the job is no longer this run's", null, false, false);
        }
    }

    /** Whether the run may go on; checked every {@value #CHECK_EVERY} rows. */
    @FunctionalInterface
    interface Claim {
        boolean held();
    }

    /** What a run that ended its job did, for the node's log: its rows, and the job it spawned (0 for none). */
    record FinishedRun(long rowsIn, long rowsOut, long rowsSkipped, long spawnedJobId) {
    }

    /**
     * Runs a job this node claimed to its end state.
     *
     * @throws ClaimLost when the claim was lost midway: nothing of the run counts
     * @throws JobFailure for a problem with the job itself (the caller ends it in ERROR with the message)
     * @return the finished run, or null for a push export's delivery that now waits for its next attempt
     */
    FinishedRun run(Job job, String node, Claim claim) throws IOException {
        if (PushDelivery.DELIVERING.equals(job.subStatus())) {
            return deliver(job, node, claim);
        }
        Path upload = job.uploadFile() == null ? null : files.upload(job.jobId(), job.uploadFile());
        if (upload == null || !Files.isRegularFile(upload)) {
            throw new JobFailure("The uploaded file is missing from the server's files directory.");
        }
        Endpoint producer = endpoint(job, job.producerEndpointId(), "producer");
        return switch (job.category()) {
            case SEGMENT_EXPORT -> {
                JobFiles.deleteTree(files.outputDir(job.jobId())); // what an earlier, cut-off run left
                try (Upload in = Upload.open(files.io(), upload)) {
                    yield export(job, node, claim, in, producer, () -> upload);
                }
            }
            case IDENTITY_IMPORT, SEGMENT_POPULATE_DB -> populate(job, node, claim, upload, producer);
        };
    }

    /** The accepted upload's file, once the run may end the job; waits for the upload's acceptance if need be. */
    @FunctionalInterface
    interface Acceptance {
        /** @throws ClaimLost when the upload was not accepted, or the job was not left to this run */
        Path await() throws IOException;
    }

    /**
     * Runs a SEGMENT_EXPORT while its upload arrives ({@link JobProcessor#follow}): reads `in`, the upload's growing
     * file, then waits for `acceptance`. The output directory is not emptied first, as another upload to the same
     * job may be followed at the same time; each run removes only its own files when it does not finish.
     */
    FinishedRun follow(Job job, String node, Claim claim, InputStream in, boolean gzip, Acceptance acceptance)
            throws IOException {
        Endpoint producer = endpoint(job, job.producerEndpointId(), "producer");
        try (Upload upload = Upload.open(in, gzip)) {
            return export(job, node, claim, upload, producer, acceptance);
        }
    }

    private FinishedRun export(Job job, String node, Claim claim, Upload in, Endpoint producer, Acceptance acceptance)
            throws IOException {
        Endpoint destination = endpoint(job, job.destinationEndpointId(), "destination");
        WithheldIdentifiers withheld = filters.between(job.accountId(), producer.endpointId(), destination.endpointId());
        JobDefinition d = job.definition();
        JobMapping mapping = new JobMapping(d.identityMappings(), d.sourceIdentifiers(), d.destinationIdentifier(),
                d.attributeMappings());
        Path outputDir = files.outputDir(job.jobId());
        JobFiles.createDirectories(outputDir);
        RowTranslation translation = compile(mapping, in.header(), producer, destination, withheld);
        // Graph translation sends values other endpoints contributed: their publish filters hold for them too.
        Set<Long> withheldContributors = translation.isGraph()
                ? filters.publishersWithholding(job.accountId(), mapping.destinationIdentifier()) : Set.of();
        SegmentFileWriter writer = new SegmentFileWriter(files.io(), outputDir, translation.outputHeader(), rowsPerFile);
        try {
            UidSnapshot snapshot = translation.needsUids() ? uids.get() : null;
            ExportPipeline.Outcome translated = ExportPipeline.run("idex-job-" + job.jobId(),
                    handler -> in.forEachRow(claim, handler), translatorsFor(translation),
                    out -> translation.translator(snapshot,
                            (rows, wanted) -> identities.valuesOfHolders(job.accountId(), rows, wanted,
                                    withheldContributors), out),
                    writer);
            Path upload = acceptance.await();
            TranslationCounts counts = translated.counts();
            RunResult result = new RunResult(counts.sourceRecords(), counts.translatedRecords(),
                    counts.destinationRecords(), translated.skipped(), details(translation.notes(), counts.badRecords(),
                    translated.firstBadRows(), List.of()));
            long child = d.updateIdentities() ? linkUploadForChild(job, upload) : 0;
            // A push destination gets the files delivered (a later claim of the job, see deliver) rather than
            // READY_FOR_DOWNLOAD.
            boolean finished = jobs.finishExport(job, node, result, writer.files(), child,
                    upload.getFileName().toString(), destination.registration().pushDestination(), clock.getAsLong());
            if (!finished) {
                if (child != 0) {
                    JobFiles.deleteTree(files.jobDir(child));
                }
                throw new ClaimLost();
            }
            JobFiles.deleteQuietly(upload);
            return new FinishedRun(counts.sourceRecords(), counts.destinationRecords(), counts.badRecords(), child);
        } catch (IOException | RuntimeException e) {
            writer.discard();
            throw e;
        }
    }

    /** A push export's delivery step (its files written by an earlier run): see {@link PushDelivery}. */
    private FinishedRun deliver(Job job, String node, Claim claim) {
        PushDelivery.Outcome outcome = push.deliver(job, node, claim::held);
        if (outcome instanceof PushDelivery.Completed c) {
            return new FinishedRun(c.rows(), c.rows(), 0, 0);
        } else if (outcome instanceof PushDelivery.Failed f) {
            throw new JobFailure(f.reason());
        } else if (outcome instanceof PushDelivery.Lost) {
            throw new ClaimLost();
        }
        return null; // waiting for its next attempt, without a thread
    }

    /**
     * Translators of an export run: two where there is a second core, as translating (SHA-256 for hashed
     * identifiers) is the step that costs most; graph translation looks rows up in batches and keeps to one.
     */
    private static int translatorsFor(RowTranslation translation) {
        return translation.isGraph() || Runtime.getRuntime().availableProcessors() < 2 ? 1 : 2;
    }

    private FinishedRun populate(Job job, String node, Claim claim, Path upload, Endpoint producer) throws IOException {
        try (Upload in = Upload.open(files.io(), upload)) {
            RowTranslation translation = compile(JobMapping.NONE, in.header(), producer, null, WithheldIdentifiers.NONE);
            RowTranslator checker = translation.translator(null, null, row -> { });
            var unique = producer.registration().uniqueIdentifierNames();
            List<List<Identifier>> batch = new ArrayList<>(RESOLVE_BATCH);
            List<Long> lines = new ArrayList<>(RESOLVE_BATCH);
            long[] placed = {0};
            long[] rejectedCount = {0};
            List<BadRow> rejections = new ArrayList<>();
            Runnable resolve = () -> {
                Resolution r = identities.resolve(job.accountId(), producer.endpointId(), unique, batch,
                        clock.getAsLong());
                placed[0] += r.placed();
                rejectedCount[0] += r.rejected().size();
                for (Rejection x : r.rejected()) {
                    if (rejections.size() < LISTED_REJECTIONS) {
                        rejections.add(new BadRow(lines.get(x.index()), x.reason()));
                    }
                }
                batch.clear();
                lines.clear();
            };
            in.forEachRow(claim, (fields, line) -> {
                if (checker.translate(fields, line) == null) {
                    batch.add(translation.identifiers(fields));
                    lines.add(line);
                    if (batch.size() == RESOLVE_BATCH) {
                        resolve.run();
                    }
                }
            });
            if (!batch.isEmpty()) {
                resolve.run();
            }
            TranslationCounts counts = checker.counts();
            SkippedRows skipped = checker.skipped();
            skipped.count(SkipReason.REJECTED_BY_IDENTITY_STORE, rejectedCount[0]);
            RunResult result = new RunResult(counts.sourceRecords(), placed[0], placed[0], skipped,
                    details(translation.notes(), counts.badRecords(), checker.firstBadRows(),
                            rejectedCount[0] == 0 ? List.of() : List.of(rejectedCount[0] + " rows could not be placed"
                                    + " in the identity store: " + joined(rejections) + ".")));
            if (!jobs.finishRun(job.jobId(), node, JobStatus.COMPLETE, result, clock.getAsLong())) {
                throw new ClaimLost();
            }
            JobFiles.deleteTree(files.jobDir(job.jobId()));
            return new FinishedRun(counts.sourceRecords(), placed[0], counts.badRecords() + rejectedCount[0], 0);
        }
    }

    private RowTranslation compile(JobMapping mapping, List<String> header, Endpoint producer, Endpoint destination,
                                   WithheldIdentifiers withheld) {
        try {
            return RowTranslation.compile(mapping, header, producer.registration(),
                    destination == null ? null : destination.registration(), withheld, scope);
        } catch (InvalidMappingException e) {
            throw new JobFailure(e.getMessage());
        }
    }

    /** The spawned job's own name for the upload (a hard link where the file system has them), before its row exists. */
    private long linkUploadForChild(Job job, Path upload) throws IOException {
        long child = jobs.nextId();
        Path target = files.upload(child, upload.getFileName().toString());
        JobFiles.createDirectories(target.getParent());
        try {
            Files.createLink(target, upload); // the same file, owner-only as it is
        } catch (UnsupportedOperationException | IOException e) {
            JobFiles.copyNew(upload, target);
        }
        return child;
    }

    private Endpoint endpoint(Job job, Long endpointId, String role) {
        Optional<Endpoint> e = endpointId == null ? Optional.empty() : endpoints.find(job.accountId(), endpointId);
        return e.orElseThrow(() -> new JobFailure("The job's " + role + " endpoint " + endpointId + " no longer exists."));
    }

    /** errorDetails: notes on the header, then the skipped rows (the first ones with their line numbers). */
    static String details(List<String> notes, long badRows, List<BadRow> firstBad, List<String> more) {
        List<String> parts = new ArrayList<>(notes);
        if (badRows > 0) {
            parts.add(badRows + (badRows == 1 ? " row was" : " rows were") + " skipped"
                    + (badRows > firstBad.size() ? " (the first " + firstBad.size() + " listed)" : "") + ": "
                    + joined(firstBad) + ".");
        }
        parts.addAll(more);
        return parts.isEmpty() ? null : String.join(" ", parts);
    }

    private static String joined(List<BadRow> rows) {
        return String.join("; ", rows.stream().map(BadRow::toString).toList());
    }

    /** A problem with the job itself: it ends in ERROR with this message. */
    static final class JobFailure extends RuntimeException {
        JobFailure(String message) {
            super(message);
        }
    }

    /** Takes the rows of an upload one at a time, with their line numbers. */
    @FunctionalInterface
    interface RowHandler {
        void row(String[] fields, long line) throws IOException;
    }

    /** The accepted upload as CSV records: strict UTF-8, gzip by name, the header first. */
    private static final class Upload implements AutoCloseable {
        private final CsvReader<String[]> reader;
        private final UploadRows rows;
        private final Iterator<String[]> records;
        private final List<String> header;

        private Upload(CsvReader<String[]> reader, UploadRows rows) {
            this.reader = reader;
            this.rows = rows;
            this.records = reader.iterator();
            try {
                if (!records.hasNext()) {
                    throw new JobFailure("The uploaded file is empty.");
                }
                this.header = List.of(records.next());
            } catch (CsvParseException e) {
                throw unreadable(e, 1);
            }
        }

        static Upload open(FileIo io, Path file) throws IOException {
            return open(AlignedFileInput.open(io, file, 0), file.getFileName().toString().endsWith(".gz"));
        }

        /** `raw` reads in large chunks of its own ({@link AlignedFileInput}). */
        static Upload open(InputStream raw, boolean gzip) throws IOException {
            InputStream in = gzip ? new GZIPInputStream(raw, 256 * 1024) : raw;
            var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            UploadRows rows = new UploadRows();
            // allowUnclosedQuote(false): FastCSV would otherwise read a quote never closed as one field holding the
            // rest of the file, and those rows would vanish without a word
            CsvReader<String[]> reader = CsvReader.builder().allowExtraFields(true).allowMissingFields(true)
                    .allowExtraCharsAfterClosingQuote(true).allowUnclosedQuote(false)
                    .build(rows, new InputStreamReader(in, decoder));
            try {
                return new Upload(reader, rows);
            } catch (RuntimeException e) {
                reader.close();
                throw e;
            }
        }

        List<String> header() {
            return header;
        }

        void forEachRow(Claim claim, RowHandler handler) throws IOException {
            long n = 0;
            long lastLine = 1;
            try {
                while (records.hasNext()) {
                    String[] fields = records.next();
                    lastLine = rows.line();
                    handler.row(fields, lastLine);
                    if (++n % CHECK_EVERY == 0 && !claim.held()) {
                        throw new ClaimLost();
                    }
                }
            } catch (UncheckedIOException e) {
                if (e.getCause() instanceof CharacterCodingException) {
                    throw new JobFailure("The uploaded file is not valid UTF-8 after line " + lastLine + ".");
                }
                throw e;
            } catch (CsvParseException e) {
                throw unreadable(e, lastLine);
            }
        }

        /**
         * Why the file cannot be read on: a quote never closed (at the end of the file, or once the field it opened
         * passes FastCSV's buffer) is named by the line of the row it opened in, which {@link UploadRows} knows
         * even though that row was never built.
         */
        private JobFailure unreadable(CsvParseException e, long lastLine) {
            String message = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            long open = Math.max(rows.line(), lastLine);
            if (message != null && (message.startsWith("Unclosed quoted field")
                    || message.contains("maximum buffer size"))) {
                return new JobFailure("The uploaded file is not readable CSV: a quote opened in the row at line " + open
                        + " is never closed, so the rest of the file would be one field. Close that quote (a quote"
                        + " inside a quoted field is written twice: \"\") and upload the file again.");
            }
            return new JobFailure("The uploaded file is not readable CSV after line " + lastLine + ": " + message);
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }
}
