package idex.exchange.delivery;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A destination's requests in flight: at most its concurrency at once; requests ready beyond that wait here, in
 * order, and each starts as soon as one in flight ends — without waiting for the engine to claim again. A task
 * started here must call {@link #release} exactly once, when its request has ended.
 */
final class SendWindow {

    private final int size;
    private final Executor starter;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private int active;

    /** `starter` runs the tasks that start when another ends (off the event loop: a start resolves the target). */
    SendWindow(int size, Executor starter) {
        this.size = size;
        this.starter = starter;
    }

    /** Starts `task` on the calling thread if the window has room, else queues it. */
    void submit(Runnable task) {
        synchronized (this) {
            if (active >= size) {
                waiting.add(task);
                return;
            }
            active++;
        }
        task.run();
    }

    /** A request has ended: the next waiting one starts in its place. */
    void release() {
        Runnable next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                active--;
                return;
            }
        }
        try {
            starter.execute(next);
        } catch (RejectedExecutionException closing) {
            // The engine is stopping: what has not started is sent again when its lease ends.
        }
    }
}
