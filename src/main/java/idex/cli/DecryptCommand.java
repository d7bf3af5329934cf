package idex.cli;

import idex.uid2.envelope.EnvelopeCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.Callable;

/** {@code idex decrypt SECRET}: response body on stdin → decrypted, pretty-printed JSON on stdout. */
@Command(name = "decrypt",
        description = {
                "Decrypts a response body read from standard input (base64 of an encrypted UID2 v2 response) and"
                        + " prints its JSON, pretty-printed.",
                "Only HTTP 200 answers are encrypted: any other input (a plain JSON error answer such as"
                        + " {\"status\":\"unauthorized\"}) is printed unchanged, with exit code 1.",
                "This command cannot verify the response nonce, because it does not know the request's nonce;"
                        + " use 'idex request' for a checked round trip."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {
                "0:decrypted JSON printed",
                "1:the input is not an encrypted success answer (printed unchanged), or does not decrypt",
                "2:invalid secret or usage"})
public final class DecryptCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SECRET", description = "Client secret: base64 of 32 bytes.")
    String secret;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    private final StdStreams streams;

    public DecryptCommand() {
        this(null);
    }

    DecryptCommand(StdStreams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws IOException {
        StdStreams io = StdStreams.orSystem(streams);
        byte[] key = ClientSecrets.parseOrReport(secret, io);
        if (key == null) {
            return ExitCodes.BAD_INPUT;
        }
        byte[] input = io.in().readAllBytes();
        if (input.length == 0) {
            io.err().println("No input: expected a response body on standard input.");
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        byte[] raw = base64OrNull(input);
        if (raw == null || raw.length < EnvelopeCodec.MIN_RESPONSE_LENGTH) {
            // Plain JSON (or any text, e.g. "Unauthorized") is an unencrypted error answer: show it as it came.
            io.out().write(input);
            io.out().flush();
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        byte[] json;
        try {
            json = EnvelopeCodec.decryptResponse(raw, key, null);
        } catch (IllegalArgumentException e) {
            io.err().println(e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        return PrettyJson.print(json, io);
    }

    /** Surrounding whitespace is tolerated: a pasted or saved answer often ends with a newline. */
    private static byte[] base64OrNull(byte[] input) {
        try {
            return Base64.getDecoder().decode(new String(input, StandardCharsets.ISO_8859_1).strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
