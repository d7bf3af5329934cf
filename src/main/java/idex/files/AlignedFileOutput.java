package idex.files;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A new file written from start to end in chunks of {@value #CHUNK} bytes (see {@link FileIo} for why). Bytes are
 * gathered in an aligned buffer; full ones are written by other threads (a few at once) while the caller fills the
 * next buffer, since with direct I/O a write returns only once the disk has the bytes. {@link #close()} writes the rest, padded to a
 * whole block for direct I/O and then cut back to its length. Not thread-safe; {@link #flush()} does nothing, as only
 * whole chunks are written before the end. The caller forces the file to disk if it must survive a crash.
 */
public final class AlignedFileOutput extends OutputStream {

    /** Bytes per write: large enough that a gigabyte is a thousand system calls. */
    public static final int CHUNK = 1 << 20;

    /** Threads that write full chunks: at most {@value #WRITES_IN_FLIGHT} per open file. */
    private static final ExecutorService WRITERS = FileIo.threads("idex-write-behind");

    /** Chunks written at once: a disk shared with reads keeps up only with several writes in flight. */
    private static final int WRITES_IN_FLIGHT = 3;

    /** A chunk on its way to the file, and where the file will end once it is there. */
    private record Write(Future<?> done, ByteBuffer buffer, long end) {
    }

    private final FileIo io;
    private final FileChannel channel;
    private ByteBuffer buffer;
    /** Buffers free for the next chunks. */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    /** Writes in flight, oldest first. */
    private final ArrayDeque<Write> behind = new ArrayDeque<>();
    /** Where the next chunk goes. */
    private long issued;
    /** Bytes known to be in the file. */
    private long written;
    private boolean closed;

    public AlignedFileOutput(FileIo io, Path path) throws IOException {
        this.io = io;
        this.channel = io.openNew(path);
        this.buffer = io.newBuffer(CHUNK);
    }

    @Override
    public void write(int b) throws IOException {
        ensureOpen();
        buffer.put((byte) b);
        if (!buffer.hasRemaining()) {
            writeChunk();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        while (len > 0) {
            int n = Math.min(len, buffer.remaining());
            buffer.put(b, off, n);
            off += n;
            len -= n;
            if (!buffer.hasRemaining()) {
                writeChunk();
            }
        }
    }

    /** Writes what `src` has remaining (and consumes it). */
    public void write(ByteBuffer src) throws IOException {
        ensureOpen();
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), buffer.remaining());
            buffer.put(src.slice(src.position(), n));
            src.position(src.position() + n);
            if (!buffer.hasRemaining()) {
                writeChunk();
            }
        }
    }

    /** Its buffers belong to other files once it is closed. */
    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("the file was closed");
        }
    }

    /**
     * Bytes known to be in the file: whole chunks until closed (the last ones may still be on their way, see
     * {@link #awaitBehind()}), then all.
     */
    public long written() {
        return written;
    }

    private void writeChunk() throws IOException {
        if (behind.size() == WRITES_IN_FLIGHT) {
            awaitOldest();
        }
        ByteBuffer full = buffer.flip();
        long at = issued;
        issued += CHUNK;
        behind.add(new Write(WRITERS.submit(() -> {
            writeFully(full, at);
            return null;
        }), full, issued));
        ByteBuffer next = free.poll();
        buffer = next != null ? next.clear() : io.newBuffer(CHUNK);
    }

    /** Waits for every write in flight (then {@link #written()} counts every whole chunk); a failure is the caller's. */
    public void awaitBehind() throws IOException {
        while (!behind.isEmpty()) {
            awaitOldest();
        }
    }

    private void awaitOldest() throws IOException {
        Write write = behind.poll();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    write.done().get();
                    written = write.end();
                    free.add(write.buffer());
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeFully(ByteBuffer from, long at) throws IOException {
        while (from.hasRemaining()) {
            at += channel.write(from, at);
        }
    }

    /** Writes the rest and closes the file; does nothing the second time. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (channel) {
            awaitBehind();
            int rest = buffer.position();
            if (rest == 0) {
                return;
            }
            int padded = (int) io.alignUp(rest);
            while (buffer.position() < padded) {
                buffer.put((byte) 0);
            }
            writeFully(buffer.flip(), issued);
            if (padded != rest) {
                channel.truncate(issued + rest);
            }
            issued += rest;
            written = issued;
        } finally {
            releaseBuffers();
        }
    }

    private void releaseBuffers() {
        if (behind.isEmpty()) { // else a failed write's thread may still hold its buffer: left to the collector
            free.forEach(io::release);
            io.release(buffer);
        }
        free.clear();
    }

    /** Closes the file without writing the rest: for a file that is thrown away. */
    public void abandon() {
        closed = true;
        while (!behind.isEmpty()) {
            try {
                awaitOldest();
            } catch (IOException ignored) {
                // the file is deleted next
            }
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // the file is deleted next
        }
        releaseBuffers();
    }
}
