package idex.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * The standard streams a command talks to. Commands write bytes, not chars, so that JSON keeps its UTF-8 whatever
 * the platform charset; tests pass their own streams instead of swapping the JVM-wide ones.
 */
record StdStreams(InputStream in, PrintStream out, PrintStream err) {

    /** Resolved when a command runs, not when it is built, so that redirections made in between are honoured. */
    static StdStreams orSystem(StdStreams streams) {
        return streams != null ? streams : new StdStreams(System.in, System.out, System.err);
    }

    /** All of standard input, without the trailing line break(s) that {@code echo} or a here-doc add. */
    byte[] readInputWithoutTrailingNewlines() throws IOException {
        byte[] input = in.readAllBytes();
        int end = input.length;
        while (end > 0 && (input[end - 1] == '\n' || input[end - 1] == '\r')) {
            end--;
        }
        return end == input.length ? input : Arrays.copyOf(input, end);
    }
}
