package idex.exchange.jobs;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.streams.WriteStream;

/**
 * An upload's way to its file: the request body arrives in chunks of a few kilobytes, and an {@link AsyncFile} hands
 * every write to a worker thread, so chunks are gathered into writes of {@value #WRITE_BYTES} bytes first — a
 * thousand writes per gigabyte instead of a hundred thousand. Back-pressure is the file's: the request pauses while
 * the file's write queue is full. Used from the event loop only (as every WriteStream is).
 */
final class CoalescingFileWrites implements WriteStream<Buffer> {

    static final int WRITE_BYTES = 1 << 20;

    private final AsyncFile file;
    private Buffer pending = Buffer.buffer(WRITE_BYTES);

    CoalescingFileWrites(AsyncFile file) {
        this.file = file;
        file.setWriteQueueMaxSize(4 * WRITE_BYTES);
    }

    @Override
    public Future<Void> write(Buffer data) {
        pending.appendBuffer(data);
        if (pending.length() < WRITE_BYTES) {
            return Future.succeededFuture();
        }
        Buffer full = pending;
        pending = Buffer.buffer(WRITE_BYTES);
        return file.write(full);
    }

    /** Writes what is gathered, then closes the file: the upload is on disk (not yet forced) when this completes. */
    @Override
    public Future<Void> end() {
        Buffer last = pending;
        pending = Buffer.buffer(0);
        return (last.length() > 0 ? file.write(last) : Future.<Void>succeededFuture()).compose(v -> file.end());
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        file.exceptionHandler(handler);
        return this;
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
        file.setWriteQueueMaxSize(maxSize);
        return this;
    }

    @Override
    public boolean writeQueueFull() {
        return file.writeQueueFull();
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
        file.drainHandler(handler);
        return this;
    }
}
