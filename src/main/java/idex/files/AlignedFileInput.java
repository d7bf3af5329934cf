package idex.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A file read from a position to its end in chunks of {@value #CHUNK} bytes (see {@link FileIo} for
 * why), possibly while it is still being written: a {@link Bound} says how far the file may be read. With direct
 * I/O, every read starts at a block offset and asks for whole blocks; only the last one, at the end of the file, is
 * short. The chunks after the one being consumed are read ahead on other threads as soon as the file has them. Not
 * thread-safe.
 */
public final class AlignedFileInput extends InputStream {

    /**
     * Bytes per read: one request of a few megabytes keeps several of the disk's queues busy at once (measured on a
     * virtio disk: 1.4 GB/s with 4 MiB reads against 0.9 GB/s with 1 MiB ones), as the kernel reads nothing ahead here.
     */
    public static final int CHUNK = 4 << 20;

    /** Chunks read ahead of the one being consumed. */
    private static final int READS_AHEAD = 2;

    /** Threads that read chunks ahead: at most {@value #READS_AHEAD} reads at a time per open file. */
    private static final ExecutorService READERS = FileIo.threads("idex-read-ahead");

    /** How far the file may be read. */
    public interface Bound {
        /**
         * Waits until more than `position` bytes may be read or the file is complete; answers how many bytes may be
         * read, which is at most `position` only when the file is complete and has that many bytes.
         *
         * @throws IOException when the file will not be completed (a writer gave up), or waiting took too long
         */
        long awaitBeyond(long position) throws IOException;

        /** How many bytes may be read now, without waiting (the next chunk is read ahead up to there). */
        long readableNow();
    }

    private final FileIo io;
    private final FileChannel channel;
    private final Bound bound;
    private ByteBuffer buffer;
    /** Reads of the chunks after `buffer`, started ahead of time, in file order. */
    private final ArrayDeque<Ahead> ahead = new ArrayDeque<>();
    /** Buffers of chunks consumed, for the next reads ahead. */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    /** Where the next read from the file (ahead of time or not) starts. */
    private long next;
    /** Bytes of the first chunk before the position the reader asked for. */
    private long skip;
    private boolean closed;

    /** Reads a complete file from `start` on (an empty stream when `start` is at or past its end). */
    public static AlignedFileInput open(FileIo io, Path path, long start) throws IOException {
        return open(io, path, start, CHUNK);
    }

    /**
     * As {@link #open(FileIo, Path, long)}, in chunks of `chunk` bytes (a multiple of the alignment): smaller for a
     * reader that the network holds back anyway, as each open file holds two chunks.
     */
    public static AlignedFileInput open(FileIo io, Path path, long start, int chunk) throws IOException {
        FileChannel channel = io.openRead(path);
        try {
            long size = channel.size();
            return new AlignedFileInput(io, channel, start, new Bound() {
                @Override
                public long awaitBeyond(long position) {
                    return size;
                }

                @Override
                public long readableNow() {
                    return size;
                }
            }, chunk);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Reads a file from its start while it is written, as far as `bound` allows. */
    public static AlignedFileInput following(FileIo io, Path path, Bound bound) throws IOException {
        return new AlignedFileInput(io, io.openRead(path), 0, bound, CHUNK);
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
        ensureOpen();
        if (!buffer.hasRemaining() && !fill()) {
            return -1;
        }
        return buffer.get() & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        ensureOpen();
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

    /**
     * The next up to `len` bytes as a read-only view of this file's own buffer, without copying them; null at the end
     * of the file. The view is valid until the next read or close, which may reuse its memory: a caller that hands it
     * to the network must wait for the network to be done with it first.
     */
    public ByteBuffer nextChunk(int len) throws IOException {
        ensureOpen();
        if (!buffer.hasRemaining() && !fill()) {
            return null;
        }
        int n = Math.min(len, buffer.remaining());
        ByteBuffer view = buffer.slice(buffer.position(), n).asReadOnlyBuffer();
        buffer.position(buffer.position() + n);
        return view;
    }

    /** Its buffers belong to other files once it is closed. */
    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("the file was closed");
        }
    }

    /** Makes the next chunk current; false at the end of the file. */
    private boolean fill() throws IOException {
        while (true) {
            int wanted;
            if (!ahead.isEmpty()) {
                Ahead read = ahead.poll();
                wanted = await(read);
                free.add(buffer);
                buffer = read.into();
            } else {
                long readable = bound.awaitBeyond(next + io.alignment() - 1);
                if (readable <= next) {
                    return false;
                }
                // whole blocks while the file goes on; the short last block only once it is complete
                long end = readable >= next + io.alignment()
                        ? Math.min(io.alignDown(readable), next + buffer.capacity()) : readable;
                wanted = (int) (end - next);
                readFully(buffer, next, wanted);
                next = end;
            }
            buffer.flip().limit(wanted);
            readAhead();
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

    /** A read of the chunk at `at` into `into`, started ahead of time. */
    private record Ahead(Future<Integer> done, ByteBuffer into) {
    }

    /**
     * Starts reading up to {@value #READS_AHEAD} chunks after `next` on other threads, as far as the file has whole
     * blocks of them already: with direct I/O the kernel reads nothing ahead, so without this the reader would wait
     * for the disk at every chunk, and with one read at a time the disk would not be kept busy.
     */
    private void readAhead() {
        while (ahead.size() < READS_AHEAD) {
            long end = Math.min(io.alignDown(bound.readableNow()), next + buffer.capacity());
            if (end - next < io.alignment()) {
                return;
            }
            long at = next;
            int wanted = (int) (end - next);
            ByteBuffer into = free.isEmpty() ? io.newBuffer(buffer.capacity()) : free.poll();
            ahead.add(new Ahead(READERS.submit(() -> {
                readFully(into, at, wanted);
                return wanted;
            }), into));
            next = end;
        }
    }

    private static int await(Ahead read) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return read.done().get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Reads `wanted` bytes at `at` into `into` (cleared first); an end of file before them is an error. */
    private void readFully(ByteBuffer into, long at, int wanted) throws IOException {
        into.clear().limit((int) io.alignUp(wanted));
        while (into.position() < wanted) {
            int n = channel.read(into, at + into.position());
            // short of whole blocks is the end of the file, as is nothing at all
            if (n < 0 || into.position() < wanted && into.position() % io.alignment() != 0) {
                throw new IOException("the file ends at " + (at + into.position()) + " bytes, before the "
                        + (at + wanted) + " it was to have");
            }
        }
    }

    /** Closes the file; reads ahead still running are stopped first. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        channel.close(); // stops the reads ahead at once
        for (Ahead read; (read = ahead.poll()) != null; ) {
            try {
                await(read);
            } catch (IOException expected) {
                // the channel was closed under it
            }
            free.add(read.into());
        }
        io.release(buffer);
        free.forEach(io::release);
        free.clear();
    }
}
