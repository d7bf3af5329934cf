package idex.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress of one transfer. On a terminal it is a single line on standard error, redrawn a few times a second
 * (`job 7 upload  12.5 MiB / 40.0 MiB  31%`); elsewhere (a pipe, a log file, a test) it prints nothing, and the
 * command prints one plain line when the transfer is done.
 */
final class Progress {

    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream err;
    private final boolean terminal;
    private final String label;
    private final long total;
    private long done;
    private long lastDrawn;
    private int drawnWidth;

    Progress(PrintStream err, boolean terminal, String label, long total, long done) {
        this.err = err;
        this.terminal = terminal;
        this.label = label;
        this.total = total;
        this.done = done;
        draw();
    }

    /** A transfer of `total` bytes (-1 when unknown) of which `done` are already there (a resumed download). */
    static Progress start(String label, long total, long done) {
        return new Progress(System.err, System.console() != null, label, total, done);
    }

    void add(long bytes) {
        done += bytes;
        if (terminal && System.nanoTime() - lastDrawn >= REDRAW_NANOS) {
            draw();
        }
    }

    long done() {
        return done;
    }

    /** Draws the last state and ends the line. */
    void finish() {
        if (terminal) {
            draw();
            err.println();
        }
    }

    /** Counts what is read through `in`. */
    InputStream counting(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    add(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    add(n);
                }
                return n;
            }
        };
    }

    private void draw() {
        if (!terminal) {
            return;
        }
        lastDrawn = System.nanoTime();
        String line = label + "  " + bytes(done) + (total >= 0 ? " / " + bytes(total) + "  "
                + (total == 0 ? 100 : done * 100 / total) + "%" : "");
        // pad over the previous, possibly longer, line
        String padded = line.length() < drawnWidth ? line + " ".repeat(drawnWidth - line.length()) : line;
        drawnWidth = line.length();
        err.print("\r" + padded);
        err.flush();
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
