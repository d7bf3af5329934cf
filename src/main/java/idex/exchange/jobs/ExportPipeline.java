package idex.exchange.jobs;

import idex.exchange.jobs.translate.OutputRows;
import idex.exchange.jobs.translate.RowTranslator;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The rows of an export run on three threads, because each of the three steps costs about as much as the others and
 * one core would do them one after the other: the calling thread parses the upload, a second thread translates (for
 * hashed identifiers mostly SHA-256), a third writes the segment data files. Rows travel in batches through two
 * bounded {@link RowBatches}, so memory stays at a few batches whatever the size of the file; one translator and one
 * writer keep the rows in the order of the upload.
 *
 * <p>The crash-safety argument of {@link JobRunner} is unchanged: the files are registered only once every stage has
 * finished, by the calling thread. When any stage fails, the others stop at their next batch, and the failure of the
 * stage that gave up first is what the run throws.
 */
final class ExportPipeline {

    /** Batches waiting between two stages: enough to absorb a file roll or a collection, few enough to stay small. */
    private static final int QUEUED_BATCHES = 16;

    /** Where parsed rows come from: the upload, read on the calling thread. */
    @FunctionalInterface
    interface RowSource {
        void forEachRow(JobRunner.RowHandler handler) throws IOException;
    }

    private ExportPipeline() {
    }

    /**
     * Runs every row of `source` through the translator `translatorFor` makes (given where its rows go) into
     * `writer`, and closes the writer. Answers the translator, whose counts are then final.
     */
    static RowTranslator run(String name, RowSource source, Function<OutputRows, RowTranslator> translatorFor,
                             SegmentFileWriter writer) throws IOException {
        RowBatches parsed = new RowBatches(QUEUED_BATCHES);
        RowBatches translated = new RowBatches(QUEUED_BATCHES);
        BatchedOutput output = new BatchedOutput(translated);
        RowTranslator translator = translatorFor.apply(output);
        AtomicInteger n = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, name + (n.getAndIncrement() == 0 ? "-translate" : "-write"));
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?> translating = threads.submit(() -> stage(parsed, translated, () -> {
                for (RowBatches.Batch b; (b = parsed.take()) != null; ) {
                    for (int i = 0; i < b.size; i++) {
                        translator.translate(b.rows[i], b.lines[i]);
                    }
                }
                translator.finish();
                output.flush();
                translated.end();
            }));
            Future<?> writing = threads.submit(() -> stage(parsed, translated, () -> {
                for (RowBatches.Batch b; (b = translated.take()) != null; ) {
                    for (int i = 0; i < b.size; i++) {
                        writer.write(b.rows[i]);
                    }
                }
                writer.close();
            }));
            Throwable failure = null;
            try {
                RowBatches.Batch[] batch = {new RowBatches.Batch()};
                source.forEachRow((fields, line) -> {
                    if (batch[0].add(fields, line)) {
                        handOver(parsed, batch[0]);
                        batch[0] = new RowBatches.Batch();
                    }
                });
                if (batch[0].size > 0) {
                    handOver(parsed, batch[0]);
                }
                parsed.end();
            } catch (Throwable t) {
                failure = t;
                parsed.abort();
                translated.abort();
            }
            failure = first(failure, outcome(translating, parsed, translated));
            failure = first(failure, outcome(writing, parsed, translated));
            if (failure == null) {
                return translator;
            }
            if (failure instanceof IOException e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            throw new IOException(failure);
        } finally {
            threads.shutdownNow();
        }
    }

    @FunctionalInterface
    private interface StageBody {
        void run() throws Exception;
    }

    /** Runs one stage; when it fails, both queues are aborted so that the other stages stop too. */
    private static Void stage(RowBatches parsed, RowBatches translated, StageBody body) throws Exception {
        try {
            body.run();
            return null;
        } catch (Throwable t) {
            parsed.abort();
            translated.abort();
            throw t;
        }
    }

    private static void handOver(RowBatches queue, RowBatches.Batch batch) throws IOException {
        try {
            queue.put(batch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("the run was interrupted");
        }
    }

    /** How a stage ended (waiting for it): null when it finished. */
    private static Throwable outcome(Future<?> stage, RowBatches parsed, RowBatches translated) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    stage.get();
                    return null;
                } catch (ExecutionException e) {
                    return e.getCause();
                } catch (InterruptedException e) {
                    // stopping: the stages stop at their next batch; wait for them so that no thread still writes
                    interrupted = true;
                    parsed.abort();
                    translated.abort();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The failure that counts: a stage's own, rather than a neighbour's noticing that it stopped. */
    private static Throwable first(Throwable current, Throwable next) {
        if (current == null || current instanceof RowBatches.Aborted) {
            return next == null ? current : next;
        }
        return current;
    }

    /** The translator's output on the translating thread: rows copied into batches for the writing thread. */
    private static final class BatchedOutput implements OutputRows {
        private final RowBatches queue;
        private RowBatches.Batch batch = new RowBatches.Batch();

        BatchedOutput(RowBatches queue) {
            this.queue = queue;
        }

        @Override
        public void write(String[] row) throws IOException {
            if (batch.add(row.clone(), 0)) { // the translator reuses its array
                handOver(queue, batch);
                batch = new RowBatches.Batch();
            }
        }

        void flush() throws IOException {
            if (batch.size > 0) {
                handOver(queue, batch);
                batch = new RowBatches.Batch();
            }
        }
    }
}
