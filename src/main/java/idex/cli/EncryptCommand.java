package idex.cli;

import idex.uid2.envelope.EnvelopeCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.util.Base64;
import java.util.concurrent.Callable;

/** {@code idex encrypt SECRET}: JSON request on stdin → base64 request envelope on stdout. */
@Command(name = "encrypt",
        description = {
                "Encrypts the JSON request read from standard input into a base64 request envelope (UID2 v2),"
                        + " written to standard output without a trailing newline.",
                "Example:",
                "  echo '{\"since_timestamp\":\"2022-06-01T13:00:00\"}' | idex encrypt SECRET \\",
                "  | curl -X POST URL/v2/identity/buckets -H 'Authorization: Bearer KEY' -d @- \\",
                "  | idex decrypt SECRET"},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:envelope written", "2:invalid secret or usage"})
public final class EncryptCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SECRET", description = "Client secret: base64 of 32 bytes.")
    String secret;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    private final StdStreams streams;

    public EncryptCommand() {
        this(null);
    }

    EncryptCommand(StdStreams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws IOException {
        StdStreams io = StdStreams.orSystem(streams);
        byte[] key = ClientSecrets.parseOrReport(secret, io);
        if (key == null) {
            return ExitCodes.BAD_INPUT;
        }
        byte[] json = io.readInputWithoutTrailingNewlines();
        // The nonce is random and forgotten: `idex decrypt` cannot check it (`idex request` does).
        byte[] envelope = EnvelopeCodec.encryptRequest(json, key, System.currentTimeMillis(), EnvelopeCodec.randomNonce());
        io.out().write(Base64.getEncoder().encode(envelope));
        io.out().flush();
        return ExitCodes.SUCCESS;
    }
}
