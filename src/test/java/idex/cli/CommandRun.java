package idex.cli;

import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/** One execution of a command with captured streams. */
record CommandRun(int exitCode, byte[] stdout, String stderr) {

    static CommandRun run(Function<StdStreams, Object> command, byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StdStreams streams = new StdStreams(new ByteArrayInputStream(stdin),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        StringWriter picocliErr = new StringWriter(); // usage errors are reported by picocli itself
        int exitCode = new CommandLine(command.apply(streams)).setErr(new PrintWriter(picocliErr)).execute(args);
        return new CommandRun(exitCode, out.toByteArray(), err.toString(StandardCharsets.UTF_8) + picocliErr);
    }

    static CommandRun run(Function<StdStreams, Object> command, String stdin, String... args) {
        return run(command, stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    String out() {
        return new String(stdout, StandardCharsets.UTF_8);
    }
}
