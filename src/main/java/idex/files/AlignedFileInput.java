package idex.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A file read from a position to its end in chunks of {@link AlignedFileOutput#CHUNK} bytes (see {@link FileIo} for
 * why), possibly while it is still being written: a {@link Bound} says how far the file may be read. With direct
 * I/O, every read starts at a block offset and asks for whole blocks; only the last one, at the end of the file, is
 * short. Not thread-safe.
 */
public final class AlignedFileInput extends InputStream {

    /** How far the file may be read. */
    @FunctionalInterface
    public interface Bound {
        /**
         * Waits until more than `position` bytes may be read or the file is complete; answers how many bytes may be
         * read, which is at most `position` only when the file is complete and has that many bytes.
         *
         * @throws IOException when the file will not be completed (a writer gave up), or waiting took too long
         */
        long awaitBeyond(long position) throws IOException;
    }

    private final FileIo io;
    private final FileChannel channel;
    private final Bound bound;
    private final ByteBuffer buffer;
    /** Where the next read from the file starts. */
    private long next;
    /** Bytes of the first chunk before the position the reader asked for. */
    private long skip;

    /** Reads a complete file from `start` on (an empty stream when `start` is at or past its end). */
    public static AlignedFileInput open(FileIo io, Path path, long start) throws IOException {
        FileChannel channel = io.openRead(path);
        try {
            long size = channel.size();
            return new AlignedFileInput(io, channel, start, p -> size, AlignedFileOutput.CHUNK);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Reads a file from its start while it is written, as far as `bound` allows. */
    public static AlignedFileInput following(FileIo io, Path path, Bound bound) throws IOException {
        return new AlignedFileInput(io, io.openRead(path), 0, bound, AlignedFileOutput.CHUNK);
    }

    private AlignedFileInput(FileIo io, FileChannel channel, long start, Bound bound, int chunk) {
        this.io = io;
        this.channel = channel;
        this.bound = bound;
        this.buffer = io.newBuffer(chunk).limit(0);
        this.next = io.alignDown(start);
        this.skip = start - next;
    }

    @Override
    public int read() throws IOException {
        if (!buffer.hasRemaining() && !fill()) {
            return -1;
        }
        return buffer.get() & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!buffer.hasRemaining() && !fill()) {
            return -1;
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }

    /** Reads up to `len` bytes into a new array; null at the end of the file. */
    public byte[] readChunk(int len) throws IOException {
        if (!buffer.hasRemaining() && !fill()) {
            return null;
        }
        byte[] b = new byte[Math.min(len, buffer.remaining())];
        buffer.get(b);
        return b;
    }

    /** Reads the next chunk into the buffer; false at the end of the file. */
    private boolean fill() throws IOException {
        while (true) {
            long readable = bound.awaitBeyond(next + io.alignment() - 1);
            if (readable <= next) {
                return false;
            }
            // whole blocks while the file goes on; the short last block only once it is complete
            long end = readable >= next + io.alignment()
                    ? Math.min(io.alignDown(readable), next + buffer.capacity()) : readable;
            int wanted = (int) (end - next);
            buffer.clear().limit((int) io.alignUp(wanted));
            while (buffer.position() < wanted) {
                int n = channel.read(buffer, next + buffer.position());
                // short of whole blocks is the end of the file, as is nothing at all
                if (n < 0 || buffer.position() < wanted && buffer.position() % io.alignment() != 0) {
                    throw new IOException("the file ends at " + (next + buffer.position()) + " bytes, before the "
                            + readable + " it was to have");
                }
            }
            buffer.flip().limit(wanted);
            next = end;
            if (skip > 0) {
                int skipped = (int) Math.min(skip, wanted);
                buffer.position(skipped);
                skip -= skipped;
            }
            if (buffer.hasRemaining()) {
                return true;
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
