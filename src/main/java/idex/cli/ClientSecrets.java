package idex.cli;

import idex.uid2.envelope.EnvelopeCodec;

import java.util.Base64;

/** Parses the client secret argument: standard base64 of 32 bytes (44 characters). */
final class ClientSecrets {
    private ClientSecrets() {
    }

    /** The secret, or null after telling the user on standard error what is wrong with it. */
    static byte[] parseOrReport(String base64, StdStreams io) {
        try {
            return parse(base64);
        } catch (IllegalArgumentException e) {
            io.err().println(e.getMessage());
            return null;
        }
    }

    /** @throws IllegalArgumentException with a message fit for the user */
    static byte[] parse(String base64) {
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            secret = null;
        }
        if (secret == null || secret.length != EnvelopeCodec.SECRET_LENGTH) {
            throw new IllegalArgumentException(
                    "Invalid client secret: expected the standard base64 of 32 bytes (44 characters).");
        }
        return secret;
    }
}
