package idex.exchange.jobs.http;

import idex.exchange.jobs.model.UploadProgress;
import idex.exchange.jobs.store.JobFiles;
import idex.files.AlignedFileOutput;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.WriteStream;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An upload's way to its file. The request body arrives in chunks of up to 64 KiB on the event loop; they are
 * gathered (not copied) until there is a whole {@link AlignedFileOutput#CHUNK} of them, and a worker thread then
 * copies them into the file's buffer and writes it, one batch after the other, in order. Back-pressure: the request
 * pauses while {@value #QUEUED_CHUNKS} chunks wait for the disk. Tells an {@link UploadProgress} how many bytes are in
 * the file after each write. Used from the event loop only, as every WriteStream is.
 */
final class UploadFileWrites implements WriteStream<Buffer> {

    private static final int QUEUED_CHUNKS = 4;

    private final Vertx vertx;
    private final AlignedFileOutput file;
    private final UploadProgress progress;
    private List<Buffer> gathered = new ArrayList<>();
    private int gatheredBytes;
    /** Bytes handed to the worker and not yet written. */
    private long queuedBytes;
    private long maxQueuedBytes = (long) QUEUED_CHUNKS * AlignedFileOutput.CHUNK;
    /** The writes so far, one after the other. */
    private Future<Void> writes = Future.succeededFuture();
    private Handler<Void> drainHandler;

    UploadFileWrites(Vertx vertx, AlignedFileOutput file, UploadProgress progress) {
        this.vertx = vertx;
        this.file = file;
        this.progress = progress;
    }

    @Override
    public Future<Void> write(Buffer data) {
        gathered.add(data);
        gatheredBytes += data.length();
        return gatheredBytes < AlignedFileOutput.CHUNK ? Future.succeededFuture() : handOver(false);
    }

    /** Writes what is gathered, then closes the file: the upload is in its file (not yet forced) when this completes. */
    @Override
    public Future<Void> end() {
        return handOver(true);
    }

    /** Once the writes in flight are done, closes the file without writing more and deletes it: a cut-off upload. */
    void abandon(Path path) {
        gathered = new ArrayList<>();
        writes.transform(ar -> vertx.executeBlocking(() -> {
            file.abandon();
            JobFiles.deleteQuietly(path);
            return null;
        }, false));
    }

    private Future<Void> handOver(boolean last) {
        List<Buffer> batch = gathered;
        int bytes = gatheredBytes;
        gathered = new ArrayList<>();
        gatheredBytes = 0;
        queuedBytes += bytes;
        writes = writes.compose(v -> vertx.executeBlocking(() -> {
            for (Buffer b : batch) {
                file.write(((BufferInternal) b).getByteBuf().nioBuffer());
            }
            if (last) {
                file.close();
            } else {
                file.awaitBehind(); // a follower may read only what is in the file
            }
            return file.written();
        }, false)).map(inFile -> {
            boolean wasFull = writeQueueFull();
            queuedBytes -= bytes;
            if (last) {
                progress.allWritten(inFile);
            } else {
                progress.wrote(inFile);
            }
            if (wasFull && !writeQueueFull() && drainHandler != null) {
                drainHandler.handle(null);
            }
            return null;
        });
        return writes;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        return this; // a failed write fails the future it answered, and so the pipe
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
        maxQueuedBytes = maxSize;
        return this;
    }

    @Override
    public boolean writeQueueFull() {
        return queuedBytes >= maxQueuedBytes;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
        drainHandler = handler;
        return this;
    }
}
