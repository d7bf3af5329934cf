package idex.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import idex.uid2.envelope.DecryptedResponseStream;
import idex.uid2.envelope.ResponseAuthenticationException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;

/**
 * Prints the JSON of an encrypted success answer, pretty, as it is decrypted: the memory stays constant whatever the
 * answer's size (a full bucket list is ~95 MB of base64).
 */
final class DecryptedAnswerPrinter {
    /**
     * Answers up to this size are authenticated before anything is printed. A larger one is printed as it comes and
     * its tag is only checked at the end: a mismatch then exits non-zero after the output.
     */
    static final int HELD_ANSWER_BYTES = 1 << 20;
    static final String UNTRUSTED = "; the output printed above is not to be trusted.";

    private DecryptedAnswerPrinter() {
    }

    /**
     * @param envelope    the raw envelope bytes (base64 already decoded)
     * @param errorPrefix put before the messages about an answer that is not valid
     * @return the exit code
     * @throws IOException from reading {@code envelope}, other than a failed authentication (possibly after
     *                     part of the output)
     */
    static int print(InputStream envelope, byte[] secret, byte[] nonceOrNull, String errorPrefix, StdStreams io)
            throws IOException {
        DecryptedResponseStream json;
        byte[] head;
        try {
            json = DecryptedResponseStream.open(envelope, secret, nonceOrNull);
            head = json.readNBytes(HELD_ANSWER_BYTES + 1);
        } catch (IllegalArgumentException | ResponseAuthenticationException e) {
            io.err().println(errorPrefix + e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        if (head.length <= HELD_ANSWER_BYTES) {
            return PrettyJson.print(head, io); // whole and authenticated: the end of the stream checked the tag
        }
        try {
            PrettyJson.copy(new SequenceInputStream(new ByteArrayInputStream(head), json), io.out());
            json.transferTo(OutputStream.nullOutputStream()); // the parser may stop before the end, which has the tag
            return ExitCodes.SUCCESS;
        } catch (ResponseAuthenticationException e) {
            return failedAfterOutput(errorPrefix + e.getMessage() + UNTRUSTED, io);
        } catch (JsonProcessingException e) {
            try {
                json.transferTo(OutputStream.nullOutputStream());
            } catch (ResponseAuthenticationException a) {
                return failedAfterOutput(errorPrefix + a.getMessage() + UNTRUSTED, io);
            }
            return failedAfterOutput("The decrypted response is not valid JSON: " + e.getOriginalMessage(), io);
        } catch (IOException e) {
            io.out().println(); // as in failedAfterOutput: the caller's message goes on its own line
            io.out().flush();
            throw e;
        }
    }

    private static int failedAfterOutput(String message, StdStreams io) {
        io.out().println(); // ends the cut-off output's line, so that the message stands apart on a terminal
        io.out().flush();
        io.err().println(message);
        return ExitCodes.NOT_A_SUCCESS_ANSWER;
    }
}
