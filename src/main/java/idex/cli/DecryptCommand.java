package idex.cli;

import idex.uid2.envelope.EnvelopeCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.SequenceInputStream;
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
                        + " use 'idex request' for a checked round trip.",
                "The answer is decrypted as it is read, in constant memory whatever its size. An answer of more than"
                        + " 1 MiB is printed as it comes and authenticated at its end: if that fails, the command exits"
                        + " with 1 after the output, which is then not to be trusted."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {
                "0:decrypted JSON printed",
                "1:the input is not an encrypted success answer (printed unchanged), or does not decrypt (any output"
                        + " printed is then not to be trusted)",
                "2:invalid secret or usage"})
public final class DecryptCommand implements Callable<Integer> {
    /** Input up to this size is read whole, and judged whole as before streaming (base64 of a held answer). */
    static final int HELD_INPUT_BYTES = (DecryptedAnswerPrinter.HELD_ANSWER_BYTES + EnvelopeCodec.MIN_RESPONSE_LENGTH)
            / 3 * 4 + 4;

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
        // The first bytes tell an encrypted answer from a plain one; the rest is decrypted as it is read.
        byte[] head = io.in().readNBytes(HELD_INPUT_BYTES + 1);
        if (head.length == 0) {
            io.err().println("No input: expected a response body on standard input.");
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        if (head.length <= HELD_INPUT_BYTES) {
            byte[] raw = base64OrNull(head);
            if (raw == null || raw.length < EnvelopeCodec.MIN_RESPONSE_LENGTH) {
                return printedUnchanged(head, io);
            }
            return DecryptedAnswerPrinter.print(new ByteArrayInputStream(raw), key, null, "", io);
        }
        if (!isBase64Text(head)) {
            return printedUnchanged(head, io);
        }
        try {
            return DecryptedAnswerPrinter.print(
                    Base64Body.decoding(new SequenceInputStream(new ByteArrayInputStream(head), io.in())), key, null,
                    "", io);
        } catch (IOException e) {
            io.out().flush();
            io.err().println("Cannot read the response: " + e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
    }

    /** Plain JSON (or any text, e.g. "Unauthorized") is an unencrypted error answer: show it as it came. */
    private int printedUnchanged(byte[] head, StdStreams io) throws IOException {
        io.out().write(head);
        io.in().transferTo(io.out());
        io.out().flush();
        return ExitCodes.NOT_A_SUCCESS_ANSWER;
    }

    /** Only base64 characters, but for whitespace (which the decoder judges later). */
    private static boolean isBase64Text(byte[] text) {
        for (byte b : text) {
            boolean base64 = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                    || b == '+' || b == '/' || b == '=';
            if (!base64 && !Character.isWhitespace(b)) {
                return false;
            }
        }
        return true;
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
