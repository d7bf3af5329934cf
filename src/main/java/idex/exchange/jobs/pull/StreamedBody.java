package idex.exchange.jobs.pull;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;

/**
 * An answer body handed from the event loop, where it arrives, to the worker thread that reads it as an
 * InputStream. At most {@value #MAX_QUEUED} bytes wait between the two: beyond that the answer is paused (the pipe
 * feeding this stream sees {@link #writeQueueFull()}) until the reader catches up, so a large download never sits in
 * memory. A reader that gets nothing for `idleMs` fails, as does one whose answer was cut off.
 */
final class StreamedBody extends InputStream implements WriteStream<Buffer> {

    static final long MAX_QUEUED = 4L * 1024 * 1024;

    private final Context context;
    private final long idleMs;
    private final Runnable cancel;
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private byte[] current;
    private int position;
    private long queued;
    private boolean ended;
    private boolean closed;
    private String failure;
    private Handler<Void> drainHandler;
    private boolean full;

    /** `context`: the event loop of the answer; `cancel`: stops the answer when the reader closes early. */
    StreamedBody(Context context, long idleMs, Runnable cancel) {
        this.context = context;
        this.idleMs = idleMs;
        this.cancel = cancel;
    }

    @Override
    public synchronized Future<Void> write(Buffer data) {
        if (!closed) {
            byte[] bytes = data.getBytes();
            chunks.add(bytes);
            queued += bytes.length;
            notifyAll();
        }
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<Void> end() {
        ended = true;
        notifyAll();
        return Future.succeededFuture();
    }

    /** The answer broke off: the reader fails instead of seeing an early end. */
    synchronized void fail(String reason) {
        if (failure == null) {
            failure = reason;
        }
        notifyAll();
    }

    @Override
    public synchronized boolean writeQueueFull() {
        full = queued >= MAX_QUEUED;
        return full;
    }

    @Override
    public synchronized WriteStream<Buffer> drainHandler(Handler<Void> handler) {
        drainHandler = handler;
        return this;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        return this;
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
        return this;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        Handler<Void> drain = null;
        int n;
        synchronized (this) {
            long deadline = System.nanoTime() + idleMs * 1_000_000;
            while (current == null || position == current.length) {
                if (closed) {
                    throw new IOException("the answer was closed");
                }
                if (!chunks.isEmpty()) {
                    current = chunks.poll();
                    position = 0;
                    queued -= current.length;
                    continue;
                }
                if (failure != null) {
                    throw new IOException(failure);
                }
                if (ended) {
                    return -1;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no data for " + idleMs + " ms");
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while reading the answer");
                }
            }
            n = Math.min(length, current.length - position);
            System.arraycopy(current, position, into, offset, n);
            position += n;
            if (full && queued < MAX_QUEUED / 2 && drainHandler != null) {
                full = false;
                drain = drainHandler;
            }
        }
        if (drain != null) {
            Handler<Void> h = drain;
            context.runOnContext(v -> h.handle(null));
        }
        return n;
    }

    @Override
    public void close() {
        boolean early;
        synchronized (this) {
            early = !ended && !closed;
            closed = true;
            chunks.clear();
            notifyAll();
        }
        if (early) {
            context.runOnContext(v -> cancel.run());
        }
    }
}
