package idex.support;

import idex.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs `idex …` in this JVM as the command line would. */
public final class Commands {

    private Commands() {
    }

    /**
     * Runs a command that must succeed; answers its standard output. One at a time: the output is captured by
     * swapping System.out, which the whole JVM shares.
     */
    public static synchronized String idex(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run(args)).as(String.join(" ", args)).isZero();
        } finally {
            System.setOut(saved);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
