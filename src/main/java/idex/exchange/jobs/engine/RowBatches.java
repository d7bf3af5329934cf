package idex.exchange.jobs.engine;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded queue of row batches from one stage of an export run to the next (see {@link ExportPipeline}). Bounded,
 * so that a fast stage waits for a slow one instead of filling the heap; either side may {@link #abort()} it, which
 * the other side sees at its next put or take.
 */
final class RowBatches {

    /** Rows handed over at once: enough that the hand-over costs nothing per row, small enough to stay young. */
    static final int BATCH_ROWS = 1024;
    private static final Batch END = new Batch();
    private static final long CHECK_MILLIS = 50;

    /** Rows (and their line numbers in the upload) travelling together. Owned by one stage at a time. */
    static final class Batch {
        final String[][] rows = new String[BATCH_ROWS][];
        final long[] lines = new long[BATCH_ROWS];
        int size;

        boolean add(String[] row, long line) {
            rows[size] = row;
            lines[size] = line;
            return ++size == BATCH_ROWS;
        }
    }

    /** Thrown in a stage whose neighbour gave up: it stops, and the neighbour's own failure is what counts. */
    static final class Aborted extends RuntimeException {
        Aborted() {
            super("another stage of the run stopped", null, false, false);
        }
    }

    private final ArrayBlockingQueue<Batch> queue;
    private volatile boolean aborted;

    RowBatches(int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
    }

    /** Hands a batch to the next stage, waiting while the queue is full. */
    void put(Batch batch) throws InterruptedException {
        while (!queue.offer(batch, CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
            if (aborted) {
                throw new Aborted();
            }
        }
        if (aborted) {
            throw new Aborted();
        }
    }

    /** Tells the next stage there are no more batches. */
    void end() throws InterruptedException {
        put(END);
    }

    /** The next batch, or null once {@link #end()} was called; waits while the queue is empty. */
    Batch take() throws InterruptedException {
        while (true) {
            Batch b = queue.poll(CHECK_MILLIS, TimeUnit.MILLISECONDS);
            if (aborted) {
                throw new Aborted();
            }
            if (b != null) {
                return b == END ? null : b;
            }
        }
    }

    /** Gives up: both sides stop at their next put or take. */
    void abort() {
        aborted = true;
        queue.clear();
    }
}
