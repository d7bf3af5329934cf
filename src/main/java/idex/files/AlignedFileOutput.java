package idex.files;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A new file written from start to end in chunks of {@value #CHUNK} bytes (see {@link FileIo} for why). Bytes are
 * gathered in one aligned buffer and written a whole chunk at a time; {@link #close()} writes the rest, padded to a
 * whole block for direct I/O and then cut back to its length. Not thread-safe; {@link #flush()} does nothing, as only
 * whole chunks are written before the end. The caller forces the file to disk if it must survive a crash.
 */
public final class AlignedFileOutput extends OutputStream {

    /** Bytes per write: large enough that a gigabyte is a thousand system calls. */
    public static final int CHUNK = 1 << 20;

    private final FileIo io;
    private final FileChannel channel;
    private final ByteBuffer buffer;
    private long written;
    private boolean closed;

    public AlignedFileOutput(FileIo io, Path path) throws IOException {
        this.io = io;
        this.channel = io.openNew(path);
        this.buffer = io.newBuffer(CHUNK);
    }

    @Override
    public void write(int b) throws IOException {
        buffer.put((byte) b);
        if (!buffer.hasRemaining()) {
            writeChunk();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
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
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), buffer.remaining());
            buffer.put(src.slice(src.position(), n));
            src.position(src.position() + n);
            if (!buffer.hasRemaining()) {
                writeChunk();
            }
        }
    }

    /** Bytes in the file: whole chunks until closed, then all of them. */
    public long written() {
        return written;
    }

    private void writeChunk() throws IOException {
        buffer.flip();
        writeFully();
        written += CHUNK;
        buffer.clear();
    }

    private void writeFully() throws IOException {
        long at = written;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
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
            int rest = buffer.position();
            if (rest == 0) {
                return;
            }
            int padded = (int) io.alignUp(rest);
            while (buffer.position() < padded) {
                buffer.put((byte) 0);
            }
            buffer.flip();
            writeFully();
            if (padded != rest) {
                channel.truncate(written + rest);
            }
            written += rest;
        }
    }

    /** Closes the file without writing the rest: for a file that is thrown away. */
    public void abandon() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the file is deleted next
        }
    }
}
