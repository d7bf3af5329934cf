package idex.http;

import idex.files.AlignedFileInput;
import idex.files.AlignedFileOutput;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.WriteStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Sends `length` bytes of an open file as a response body whose head is set (a download), or as a request body (a
 * file pushed to a partner). A worker thread takes the next chunk of
 * the file (already read ahead by {@link AlignedFileInput}) and the event loop hands it to the connection as it lies in
 * the file's buffer, without copying it through the heap; the next chunk is taken only once the connection has written
 * this one, as its memory is then the file's again. So a slow client holds one chunk of the file, and a client that
 * goes away stops the reading. The file is closed at the end either way, once nothing uses its buffers.
 */
public final class FileBodyPump {

    private static final Logger LOG = LoggerFactory.getLogger(FileBodyPump.class);

    /** Bytes sent at a time (and a good chunk size for the file read ahead of them). */
    public static final int CHUNK = AlignedFileOutput.CHUNK;

    private final Vertx vertx;
    private final AlignedFileInput in;
    private final WriteStream<Buffer> out;
    /** Cuts the body short when the file cannot be read: the other side then sees a broken message. */
    private final Runnable cut;
    /** The response, for a download: its connection closing stops the reading. */
    private final HttpServerResponse response;
    private long remaining;
    private boolean reading;
    private boolean writing;
    private boolean stopped;
    private boolean closed;

    public FileBodyPump(Vertx vertx, AlignedFileInput in, HttpServerResponse response, long length) {
        this(vertx, in, response, response::reset, response, length);
    }

    /** A request body: the request ended once the last byte is handed over, or reset when the file fails. */
    public FileBodyPump(Vertx vertx, AlignedFileInput in, HttpClientRequest request, long length) {
        this(vertx, in, request, request::reset, null, length);
    }

    private FileBodyPump(Vertx vertx, AlignedFileInput in, WriteStream<Buffer> out, Runnable cut,
                         HttpServerResponse response, long length) {
        this.vertx = vertx;
        this.in = in;
        this.out = out;
        this.cut = cut;
        this.response = response;
        this.remaining = length;
    }

    /** Starts sending (at least one byte); on the event loop. */
    public void start() {
        if (response != null) {
            response.closeHandler(v -> stop("the client went away"));
        }
        out.exceptionHandler(e -> stop(e.toString()));
        readNext();
    }

    private void readNext() {
        reading = true;
        int wanted = (int) Math.min(CHUNK, remaining);
        vertx.executeBlocking(() -> in.nextChunk(wanted), false).onComplete(ar -> {
            reading = false;
            if (stopped) {
                closeWhenIdle();
                return;
            }
            if (ar.failed() || ar.result() == null) {
                // the head is out: all that can be done is to cut the body short, which the client notices
                LOG.error("Reading a file for a message body failed", ar.failed() ? ar.cause()
                        : new IOException("the file ended " + remaining + " bytes early"));
                stop("the file could not be read");
                cut.run();
                return;
            }
            send(ar.result());
        });
    }

    private void send(ByteBuffer chunk) {
        remaining -= chunk.remaining();
        var body = BufferInternal.buffer(Unpooled.wrappedBuffer(chunk));
        writing = true;
        Future<Void> written = remaining == 0 ? out.end(body) : out.write(body);
        written.onComplete(ar -> {
            writing = false;
            if (ar.failed() || remaining == 0) {
                stop(ar.failed() ? ar.cause().toString() : null);
            } else if (stopped) {
                closeWhenIdle();
            } else {
                readNext();
            }
        });
    }

    private void stop(String why) {
        if (!stopped && why != null) {
            LOG.debug("File body stopped: {}", why);
        }
        stopped = true;
        closeWhenIdle();
    }

    /** Closes the file once neither a read nor a write uses its buffers (which then serve other files). */
    private void closeWhenIdle() {
        if (closed || reading || writing) {
            return;
        }
        closed = true;
        vertx.executeBlocking(() -> {
            in.close();
            return null;
        }, false);
    }
}
