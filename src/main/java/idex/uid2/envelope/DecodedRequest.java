package idex.uid2.envelope;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A decrypted, validated request envelope.
 *
 * @param timestampMillis the client's time from the envelope (Unix ms)
 * @param nonce           the 8 nonce bytes, to be echoed in the response envelope
 * @param json            the request's JSON object
 * @param binary          the envelope came as raw bytes, so the answer goes back as raw bytes
 *                        ({@code application/octet-stream}); otherwise as base64 text
 */
public record DecodedRequest(long timestampMillis, byte[] nonce, ObjectNode json, boolean binary) {
}
