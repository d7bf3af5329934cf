package idex.uid2.salts;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The salt set a running server answers from. `refresh()` (called on a worker every second) applies what other
 * processes changed: a whole reload after an import, only the changed rows after a rotation, in place; and keeps
 * the stored snapshot from falling far behind. Refreshes are serialised: the set has one writer.
 */
public final class LiveSalts {

    private static final Logger LOG = LoggerFactory.getLogger(LiveSalts.class);

    private final SaltStore store;
    private volatile SaltBuckets current;

    public LiveSalts(SaltStore store) {
        this.store = store;
        this.current = store.loadAll();
        writeSnapshotInBackground(current); // the server's copy of the set, when it has none of this one
    }

    /**
     * Writing a snapshot (a hundred MB for a million buckets) must not hold up the next rotation's apply: it runs on
     * its own thread, one at a time, and is thrown away if a change lands meanwhile.
     */
    private final java.util.concurrent.ExecutorService snapshots = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "idex-salt-snapshot");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.atomic.AtomicBoolean snapshotQueued = new java.util.concurrent.atomic.AtomicBoolean();

    private void writeSnapshotInBackground(SaltBuckets set) {
        if (!snapshotQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            snapshots.execute(() -> {
                snapshotQueued.set(false);
                try {
                    store.snapshotIfBehind(set);
                } catch (RuntimeException e) {
                    LOG.warn("Writing the salt snapshot failed (a later refresh tries again): {}", e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            snapshotQueued.set(false);
        }
    }

    /** Stops the snapshot writer, letting one in progress finish (up to 30 s), before the store closes. */
    public void close() {
        snapshots.shutdown();
        try {
            if (!snapshots.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                snapshots.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public SaltBuckets current() {
        return current;
    }

    /** Brings the in-memory set up to date with the store; returns true when something changed. */
    public synchronized boolean refresh() {
        SaltSettings s = store.settings().orElseThrow();
        SaltBuckets now = current;
        if (s.epoch() != now.epoch()) {
            current = store.loadAll();
            LOG.info("Reloaded {} salt buckets after a salt import", current.count());
            writeSnapshotInBackground(current);
            return true;
        }
        if (s.generation() != now.generation()) {
            long started = System.nanoTime();
            var changes = store.changedSince(now.generation());
            now.apply(changes, s.generation());
            LOG.info("Applied {} rotated salt buckets in {} ms", changes.size(), (System.nanoTime() - started) / 1_000_000);
            writeSnapshotInBackground(now);
            return true;
        }
        return false;
    }
}
