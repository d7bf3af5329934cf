package idex.exchange.jobs;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.streams.WriteStream;

import java.util.ArrayDeque;

/**
 * An upload's way to its file: the request body arrives in chunks of a few kilobytes, and an {@link AsyncFile} hands
 * every write to a worker thread, so chunks are gathered into writes of {@value #WRITE_BYTES} bytes first — a
 * thousand writes per gigabyte instead of a hundred thousand. Back-pressure is the file's: the request pauses while
 * the file's write queue is full. Used from the event loop only (as every WriteStream is). Tells an
 * {@link UploadProgress} how many bytes are in the file: writes may complete out of order, so only the end of the
 * longest run of completed writes from the start counts.
 */
final class CoalescingFileWrites implements WriteStream<Buffer> {

    static final int WRITE_BYTES = 1 << 20;

    private final AsyncFile file;
    private final UploadProgress progress;
    /** Writes issued and not yet reported: {end offset, 1 once completed}, in the order they were issued. */
    private final ArrayDeque<long[]> inFlight = new ArrayDeque<>();
    private long issued;
    private Buffer pending = Buffer.buffer(WRITE_BYTES);

    CoalescingFileWrites(AsyncFile file, UploadProgress progress) {
        this.file = file;
        this.progress = progress;
        file.setWriteQueueMaxSize(4 * WRITE_BYTES);
    }

    private Future<Void> writeToFile(Buffer data) {
        long[] write = {issued += data.length(), 0};
        inFlight.add(write);
        return file.write(data).onSuccess(v -> {
            write[1] = 1;
            long upTo = -1;
            while (!inFlight.isEmpty() && inFlight.peek()[1] == 1) {
                upTo = inFlight.poll()[0];
            }
            if (upTo >= 0) {
                progress.wrote(upTo);
            }
        });
    }

    @Override
    public Future<Void> write(Buffer data) {
        pending.appendBuffer(data);
        if (pending.length() < WRITE_BYTES) {
            return Future.succeededFuture();
        }
        Buffer full = pending;
        pending = Buffer.buffer(WRITE_BYTES);
        return writeToFile(full);
    }

    /** Writes what is gathered, then closes the file: the upload is on disk (not yet forced) when this completes. */
    @Override
    public Future<Void> end() {
        Buffer last = pending;
        pending = Buffer.buffer(0);
        return (last.length() > 0 ? writeToFile(last) : Future.<Void>succeededFuture()).compose(v -> file.end())
                .onSuccess(v -> progress.allWritten(issued));
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
