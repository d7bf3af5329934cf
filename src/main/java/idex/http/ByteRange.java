package idex.http;

import java.util.Optional;

/**
 * One byte range of a representation of `size` bytes, from a `Range: bytes=…` header (RFC 9110 §14): `a-b`, `a-`
 * (to the end) or `-n` (the last n bytes). `end` is inclusive, as in `Content-Range`.
 */
public record ByteRange(long start, long end) {

    /** A range that names no byte of the representation: 416, with the representation's size in `Content-Range`. */
    public static final class Unsatisfiable extends Exception {
        public Unsatisfiable() {
            super(null, null, false, false);
        }
    }

    /**
     * The range a header asks for, clamped to the representation; empty when the header is absent or is to be
     * ignored (another unit, several ranges, or invalid syntax: the whole representation is then sent, as RFC 9110
     * allows).
     */
    public static Optional<ByteRange> parse(String header, long size) throws Unsatisfiable {
        if (header == null) {
            return Optional.empty();
        }
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return Optional.empty();
        }
        String spec = h.substring(6).trim();
        int dash = spec.indexOf('-');
        if (spec.indexOf(',') >= 0 || dash < 0) {
            return Optional.empty();
        }
        Long first = number(spec.substring(0, dash));
        Long last = number(spec.substring(dash + 1));
        if (dash == 0) {
            // suffix range: the last n bytes
            if (last == null) {
                return Optional.empty();
            }
            if (last == 0 || size == 0) {
                throw new Unsatisfiable();
            }
            return Optional.of(new ByteRange(Math.max(0, size - last), size - 1));
        }
        if (first == null || (last == null && dash + 1 < spec.length()) || (last != null && last < first)) {
            return Optional.empty();
        }
        if (first >= size) {
            throw new Unsatisfiable();
        }
        return Optional.of(new ByteRange(first, last == null ? size - 1 : Math.min(last, size - 1)));
    }

    public long length() {
        return end - start + 1;
    }

    /** The `Content-Range` value of this range of a representation of `size` bytes. */
    public String contentRange(long size) {
        return "bytes " + start + "-" + end + "/" + size;
    }

    /**
     * A position of the header; null when it is not one. Digits past what a long holds stand for Long.MAX_VALUE: the
     * position is valid and beyond any file (so `bytes=99999999999999999999-` is 416 like any start past the end, and
     * a last position that large means "to the end").
     */
    private static Long number(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return null;
        }
        long value = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            value = value > (Long.MAX_VALUE - (c - '0')) / 10 ? Long.MAX_VALUE : value * 10 + (c - '0');
        }
        return value;
    }
}
