package idex.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.Objects;

/**
 * A base64 answer body decoded as it is read. Surrounding whitespace is tolerated, as {@code String.strip()} would
 * drop it: a pasted or saved answer often ends with a line break, which the decoder itself refuses.
 */
final class Base64Body {
    private Base64Body() {
    }

    /** Reading throws an IOException at the first byte that is not base64. */
    static InputStream decoding(InputStream text) {
        return Base64.getDecoder().wrap(new Trimmed(text));
    }

    /**
     * The text without leading and trailing whitespace. A whitespace run is held until text follows it; inside the
     * text it is passed on as its first byte only, which is enough for the decoder to refuse it and keeps the memory
     * constant.
     */
    private static final class Trimmed extends InputStream {
        private final InputStream in;
        private final byte[] buffer = new byte[8192];
        private int position;
        private int end;
        private boolean textSeen;
        private int heldWhitespace = -1;

        Trimmed(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            int count = 0;
            while (count < len) {
                if (position == end) {
                    if (count > 0) {
                        return count; // hand over what is ready rather than block for more
                    }
                    int n = in.read(buffer);
                    if (n < 0) {
                        return -1; // a held whitespace run was trailing: dropped
                    }
                    position = 0;
                    end = n;
                    continue;
                }
                byte c = buffer[position];
                if (isWhitespace(c)) {
                    if (textSeen && heldWhitespace < 0) {
                        heldWhitespace = c;
                    }
                    position++;
                } else if (heldWhitespace >= 0) {
                    b[off + count++] = (byte) heldWhitespace;
                    heldWhitespace = -1;
                } else {
                    textSeen = true;
                    b[off + count++] = c;
                    position++;
                }
            }
            return count;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }

        /** Character.isWhitespace over ISO-8859-1, what String.strip() drops. */
        private static boolean isWhitespace(byte c) {
            return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
        }
    }
}
