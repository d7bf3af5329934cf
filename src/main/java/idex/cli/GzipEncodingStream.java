package idex.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterInputStream;

/**
 * Another stream read as gzip (RFC 1952), compressed as it is read: an upload is gzipped on the fly without a
 * temporary file, a thread or the whole file in memory (the JDK only offers gzip as an output stream).
 */
final class GzipEncodingStream extends InputStream {

    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final CRC32 crc = new CRC32();
    private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    private final InputStream source;
    private final InputStream body;
    private InputStream current = new ByteArrayInputStream(HEADER);
    private int part; // 0 header, 1 deflated body, 2 trailer, 3 end

    GzipEncodingStream(InputStream source) {
        this.source = source;
        this.body = new DeflaterInputStream(new CheckedInputStream(source, crc), deflater, 64 * 1024);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (part < 3) {
            int n = current.read(buf, off, len);
            if (n > 0) {
                return n;
            }
            if (n < 0) {
                next();
            }
        }
        return -1;
    }

    private void next() {
        part++;
        if (part == 1) {
            current = body;
        } else if (part == 2) {
            long crcValue = crc.getValue();
            long size = deflater.getBytesRead();
            byte[] trailer = new byte[8];
            for (int i = 0; i < 4; i++) {
                trailer[i] = (byte) (crcValue >>> (8 * i));
                trailer[4 + i] = (byte) (size >>> (8 * i)); // the size modulo 2^32, as RFC 1952 says
            }
            current = new ByteArrayInputStream(trailer);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            source.close();
        } finally {
            deflater.end();
        }
    }
}
