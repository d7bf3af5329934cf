package idex.exchange.jobs.engine;

import idex.exchange.jobs.translate.BadRow;
import idex.exchange.jobs.translate.OutputRows;
import idex.exchange.jobs.translate.RowTranslator;
import idex.exchange.jobs.translate.SkippedRows;
import idex.exchange.jobs.translate.TranslationCounts;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The rows of an export run on several threads, because no one step is most of the work: the calling thread parses
 * the upload, one or more translators translate (for hashed identifiers mostly SHA-256), one thread writes the
 * segment data files. Rows travel in batches through bounded {@link RowBatches}, so memory stays at a few batches
 * whatever the size of the file.
 *
 * <p>With several translators, batch <i>i</i> goes to translator <i>i</i> mod <i>n</i>, and each translator answers
 * every input batch with exactly one output batch (maybe empty), which the writer takes in the same rotation: the rows
 * stay in the order of the upload. That needs a translation that makes at most one row per row it reads and keeps no
 * rows back; graph translation (rows multiply, and are held for a batched lookup) runs with one translator.
 *
 * <p>The crash-safety argument of {@link JobRunner} is unchanged: the files are registered only once every stage has
 * finished, by the calling thread. When any stage fails, the others stop at their next batch, and the failure of the
 * stage that gave up first is what the run throws.
 */
final class ExportPipeline {

    /** Batches waiting between two stages: enough to absorb a file roll or a collection, few enough to stay small. */
    private static final int QUEUED_BATCHES = 2;

    /** Where parsed rows come from: the upload, read on the calling thread. */
    @FunctionalInterface
    interface RowSource {
        void forEachRow(JobRunner.RowHandler handler) throws IOException;
    }

    /** What the translators found, all together. */
    record Outcome(TranslationCounts counts, SkippedRows skipped, List<BadRow> firstBadRows) {
    }

    private ExportPipeline() {
    }

    /**
     * Runs every row of `source` through `translators` translators that `translatorFor` makes (given where their
     * rows go) into `writer`, and closes the writer.
     */
    static Outcome run(String name, RowSource source, int translators, Function<OutputRows, RowTranslator> translatorFor,
                       SegmentFileWriter writer) throws IOException {
        List<RowBatches> parsed = new ArrayList<>();
        List<RowBatches> translated = new ArrayList<>();
        List<RowTranslator> stages = new ArrayList<>();
        List<BatchedOutput> outputs = new ArrayList<>();
        for (int k = 0; k < translators; k++) {
            parsed.add(new RowBatches(QUEUED_BATCHES));
            translated.add(new RowBatches(QUEUED_BATCHES));
            BatchedOutput output = new BatchedOutput(translated.get(k));
            outputs.add(output);
            stages.add(translatorFor.apply(output));
        }
        List<RowBatches> all = new ArrayList<>(parsed);
        all.addAll(translated);
        AtomicInteger n = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(translators + 1, r -> {
            int k = n.getAndIncrement();
            Thread t = new Thread(r, name + (k < translators ? "-translate-" + (k + 1) : "-write"));
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int k = 0; k < translators; k++) {
                RowBatches in = parsed.get(k);
                RowBatches out = translated.get(k);
                RowTranslator translator = stages.get(k);
                BatchedOutput output = outputs.get(k);
                running.add(threads.submit(() -> stage(all, () -> {
                    for (RowBatches.Batch b; (b = in.take()) != null; ) {
                        for (int i = 0; i < b.size; i++) {
                            translator.translate(b.rows[i], b.lines[i]);
                        }
                        output.flush();
                    }
                    translator.finish();
                    if (output.pending()) {
                        if (translators > 1) {
                            throw new IllegalStateException("a translator held rows back: it needs a pipeline of its own");
                        }
                        output.flush();
                    }
                    out.end();
                })));
            }
            running.add(threads.submit(() -> stage(all, () -> {
                // the rotation of the parser; a finished translator answers null from then on
                for (int k = 0; ; k = (k + 1) % translators) {
                    RowBatches.Batch b = translated.get(k).take();
                    if (b == null) {
                        break;
                    }
                    for (int i = 0; i < b.size; i++) {
                        writer.write(b.rows[i]);
                    }
                }
                writer.close();
            })));
            Throwable failure = null;
            try {
                RowBatches.Batch[] batch = {new RowBatches.Batch()};
                int[] next = {0};
                source.forEachRow((fields, line) -> {
                    if (batch[0].add(fields, line)) {
                        handOver(parsed.get(next[0]), batch[0]);
                        next[0] = (next[0] + 1) % translators;
                        batch[0] = new RowBatches.Batch();
                    }
                });
                if (batch[0].size > 0) {
                    handOver(parsed.get(next[0]), batch[0]);
                }
                for (RowBatches q : parsed) {
                    q.end();
                }
            } catch (Throwable t) {
                failure = t;
                all.forEach(RowBatches::abort);
            }
            for (Future<?> stage : running) {
                failure = first(failure, outcome(stage, all));
            }
            if (failure == null) {
                return outcome(stages);
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

    private static Outcome outcome(List<RowTranslator> stages) {
        TranslationCounts counts = new TranslationCounts(0, 0, 0, 0);
        SkippedRows skipped = new SkippedRows();
        List<BadRow> bad = new ArrayList<>();
        for (RowTranslator t : stages) {
            counts = counts.plus(t.counts());
            skipped.add(t.skipped());
            bad.addAll(t.firstBadRows()); // each its own first ones: the first ones of all are among them
        }
        bad.sort(Comparator.comparingLong(BadRow::line));
        return new Outcome(counts, skipped, List.copyOf(bad.subList(0, Math.min(bad.size(), RowTranslator.LISTED_BAD_ROWS))));
    }

    @FunctionalInterface
    private interface StageBody {
        void run() throws Exception;
    }

    /** Runs one stage; when it fails, every queue is aborted so that the other stages stop too. */
    private static Void stage(List<RowBatches> all, StageBody body) throws Exception {
        try {
            body.run();
            return null;
        } catch (Throwable t) {
            all.forEach(RowBatches::abort);
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
    private static Throwable outcome(Future<?> stage, List<RowBatches> all) {
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
                    all.forEach(RowBatches::abort);
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

    /**
     * A translator's output on its thread: rows copied into batches for the writing thread, one batch for each input
     * batch ({@link #flush()}); a batch fills up only where one row makes several (graph translation, one translator).
     */
    private static final class BatchedOutput implements OutputRows {
        private final RowBatches queue;
        private RowBatches.Batch batch = new RowBatches.Batch();

        BatchedOutput(RowBatches queue) {
            this.queue = queue;
        }

        @Override
        public void write(String[] row) throws IOException {
            if (batch.size == RowBatches.BATCH_ROWS) {
                flush();
            }
            batch.add(row.clone(), 0); // the translator reuses its array
        }

        boolean pending() {
            return batch.size > 0;
        }

        /** Hands the batch over, even empty: the writer takes one batch per input batch from each translator. */
        void flush() throws IOException {
            handOver(queue, batch);
            batch = new RowBatches.Batch();
        }
    }
}
