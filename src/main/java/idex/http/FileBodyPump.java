package idex.http;

import idex.files.AlignedFileInput;
import idex.files.AlignedFileOutput;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Sends `length` bytes of an open file as a response body whose head is set: a worker thread reads the next chunk
 * while the event loop sends the one before, and reading waits while the connection's write queue is full, so a slow
 * client holds two chunks of memory at most. A client that goes away stops the reading; the file is closed at the
 * end either way.
 */
public final class FileBodyPump {

    /** Bytes sent at a time (and a good chunk size for the file read ahead of them). */
    public static final int CHUNK = AlignedFileOutput.CHUNK;

    private static final Logger LOG = LoggerFactory.getLogger(FileBodyPump.class);

    private final Vertx vertx;
    private final AlignedFileInput in;
    private final HttpServerResponse response;
    private long remaining;
    private Buffer ready;
    private boolean reading;
    private boolean stopped;

    public FileBodyPump(Vertx vertx, AlignedFileInput in, HttpServerResponse response, long length) {
        this.vertx = vertx;
        this.in = in;
        this.response = response;
        this.remaining = length;
    }

    /** Starts sending; on the event loop. */
    public void start() {
        response.closeHandler(v -> stop("the client went away"));
        response.exceptionHandler(e -> stop(e.toString()));
        readNext();
    }

    private void readNext() {
        if (stopped || reading) {
            return;
        }
        reading = true;
        int wanted = (int) Math.min(CHUNK, remaining);
        vertx.executeBlocking(() -> in.readChunk(wanted), false).onComplete(ar -> {
            reading = false;
            if (stopped) {
                closeFile();
                return;
            }
            if (ar.failed() || ar.result() == null) {
                // the head is out: all that can be done is to cut the body short, which the client notices
                LOG.error("Reading a file for a response failed", ar.failed() ? ar.cause()
                        : new IOException("the file ended " + remaining + " bytes early"));
                stop("the file could not be read");
                response.reset();
                return;
            }
            ready = Buffer.buffer(ar.result());
            send();
        });
    }

    private void send() {
        if (stopped || ready == null) {
            return;
        }
        if (response.writeQueueFull()) {
            response.drainHandler(v -> send());
            return;
        }
        Buffer chunk = ready;
        ready = null;
        remaining -= chunk.length();
        if (remaining == 0) {
            stop(null);
            response.end(chunk);
        } else {
            response.write(chunk);
            readNext();
        }
    }

    private void stop(String why) {
        if (stopped) {
            return;
        }
        stopped = true;
        if (why != null) {
            LOG.debug("File response stopped: {}", why);
        }
        if (!reading) { // else the read's end closes it: the file is not to be closed under a read
            closeFile();
        }
    }

    private void closeFile() {
        vertx.executeBlocking(() -> {
            in.close();
            return null;
        }, false);
    }
}
