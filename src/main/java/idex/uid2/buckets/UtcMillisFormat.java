package idex.uid2.buckets;

/**
 * Writes Unix milliseconds as `yyyy-MM-ddTHH:mm:ss.SSS` (UTC) straight into a byte array: the bucket list
 * formats up to a million timestamps per answer, which java.time formatters would make the slowest part.
 */
final class UtcMillisFormat {

    static final int LENGTH = 23;
    private static final long DAY_MS = 86_400_000L;

    private UtcMillisFormat() {
    }

    /** Writes 23 ASCII bytes at `pos` for years 0000–9999; returns the position after them. */
    static int write(long millis, byte[] out, int pos) {
        long days = Math.floorDiv(millis, DAY_MS);
        int msOfDay = (int) Math.floorMod(millis, DAY_MS);
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        int doe = (int) (z - era * 146_097);
        int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int mp = (5 * doy + 2) / 153;
        int day = doy - (153 * mp + 2) / 5 + 1;
        int month = mp < 10 ? mp + 3 : mp - 9;
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        int y = (int) year;
        out[pos] = digit(y / 1000);
        out[pos + 1] = digit(y / 100);
        out[pos + 2] = digit(y / 10);
        out[pos + 3] = digit(y);
        out[pos + 4] = '-';
        two(month, out, pos + 5);
        out[pos + 7] = '-';
        two(day, out, pos + 8);
        out[pos + 10] = 'T';
        int secs = msOfDay / 1000;
        two(secs / 3600, out, pos + 11);
        out[pos + 13] = ':';
        two(secs / 60 % 60, out, pos + 14);
        out[pos + 16] = ':';
        two(secs % 60, out, pos + 17);
        out[pos + 19] = '.';
        int ms = msOfDay % 1000;
        out[pos + 20] = digit(ms / 100);
        out[pos + 21] = digit(ms / 10);
        out[pos + 22] = digit(ms);
        return pos + LENGTH;
    }

    private static void two(int v, byte[] out, int pos) {
        out[pos] = (byte) ('0' + v / 10);
        out[pos + 1] = (byte) ('0' + v % 10);
    }

    private static byte digit(int v) {
        return (byte) ('0' + Math.floorMod(v, 10));
    }
}
