package idex.cli;

import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** `idex serve` as an operator meets it: what a failed start says, and the defaults. */
class ServeCommandTest {

    @TempDir
    Path dir;

    @Test
    void aPortInUseIsNamedWithItsHostAndTheStoreIsLeftUsable() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();

            CommandRun run = IdexCli.run("serve", "--data-dir", dir.toString(), "--salt-buckets", "64",
                    "--rotation-schedule", "off", "--port", Integer.toString(port));

            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.stderr()).contains("idex: cannot listen on 127.0.0.1:" + port + ": address in use"
                    + System.lineSeparator()).doesNotContain("\tat ");
        }
        // The failed start stopped what it had started, so the store opens again at once.
        try (TestServer again = TestServer.start(dir, 64)) {
            assertThat(again.port()).isPositive();
        }
    }

    @Test
    void theAccessLogIsOffUnlessAskedFor() {
        assertThat(parsed().accessLog).isFalse();
        assertThat(parsed("--access-log").accessLog).isTrue();
    }

    private static ServeCommand parsed(String... args) {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs(args);
        return serve;
    }
}
