package idex.cli;

import idex.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs `idex …` in this JVM as the command line would, and waits for a running server to take a change in. */
final class IdexCli {

    private IdexCli() {
    }

    /** Runs a command that must succeed; answers its standard output. */
    static String idex(String... args) {
        return idex.support.Commands.idex(args);
    }

    /** Runs a command that may fail; answers its exit code, standard output and standard error. */
    /**
     * `idex <command…> <args…> --url <server> --key <key>`: a client command against a running server, as an operator
     * or an endpoint runs it.
     */
    static CommandRun against(idex.support.TestServer server, String key, String[] command, String... args) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(command));
        all.addAll(java.util.List.of(args));
        all.addAll(java.util.List.of("--url", server.url(""), "--key", key));
        return run(all.toArray(new String[0]));
    }

    static CommandRun run(String... args) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new CommandRun(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    /** Waits for a condition the server must reach within 5 s of an admin command (polling, bounded). */
    static void within5s(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("not in effect within 5 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
