package idex.exchange.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An upload's file read while the upload is still being written to it: a read past what is written waits for more,
 * and the end of the stream is the end of the upload. The reader stays behind the writer by construction; it only
 * reads bytes the upload reported written, so it never sees a hole. The file may be renamed meanwhile (the channel
 * stays open on it).
 */
final class GrowingFileInput extends InputStream {

    /** How far the upload has got; blocks the reader until there is more. */
    interface Written {
        /**
         * Waits until more than `position` bytes are written or the upload has ended; answers how many bytes are
         * written, which equals `position` only at the end of a complete upload.
         *
         * @throws IOException when the upload was refused or cut off, or has stalled, or the server stops
         */
        long awaitBeyond(long position) throws IOException;
    }

    private final FileChannel channel;
    private final Written written;
    private long position;
    private long available;

    GrowingFileInput(Path file, Written written) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.written = written;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (position == available) {
            available = written.awaitBeyond(position);
            if (available == position) {
                return -1;
            }
        }
        int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, available - position)), position);
        if (n < 0) {
            throw new IOException("the upload's file is shorter than the upload reported");
        }
        position += n;
        return n;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
