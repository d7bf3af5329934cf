package idex.uid2.envelope;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import idex.json.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The UID2 v2 request/response envelopes (spec uid2-operator.md §1 and §2): AES-256-GCM with the client secret.
 * <pre>
 * request  = 0x01 ‖ IV(12) ‖ GCM( ts(8, BE ms) ‖ nonce(8) ‖ JSON ) ‖ tag(16)   as base64 text or raw bytes
 * response =        IV(12) ‖ GCM( ts(8, BE ms) ‖ nonce(8) ‖ JSON ) ‖ tag(16)   same form as the request
 * </pre>
 * Stateless and thread-safe: every call builds its own {@link Cipher}, so no key material outlives a call.
 */
public final class EnvelopeCodec {
    public static final String BODY_MISSING = "Invalid body: Body is missing.";
    public static final String NOT_BASE64 = "Invalid body: Body is not valid base64.";
    public static final String TOO_SHORT = "Invalid body: Body too short. Check encryption method.";
    public static final String VERSION_MISMATCH_PREFIX = "Invalid body: Invalid request envelope format version: received ";
    public static final String WRONG_SECRET = "Invalid body: Check encryption key (ClientSecret).";
    public static final String BAD_TIMESTAMP = "Invalid timestamp: Request too old or client time drift.";
    public static final String INVALID_JSON = "Invalid payload in body: Data is not valid json string.";
    public static final String UNENCRYPTED_JSON =
            "Invalid body: The request body is unencrypted JSON. It must be an encrypted request envelope.";

    public static final int SECRET_LENGTH = 32;
    public static final int NONCE_LENGTH = 8;
    static final int IV_LENGTH = 12;
    static final int TAG_LENGTH = 16;
    /** Plaintext header: timestamp(8) ‖ nonce(8). */
    static final int HEADER_LENGTH = 8 + NONCE_LENGTH;
    static final byte VERSION = 1;
    /** version ‖ IV ‖ header ‖ tag: an envelope with an empty JSON part. */
    static final int MIN_REQUEST_LENGTH = 1 + IV_LENGTH + HEADER_LENGTH + TAG_LENGTH;
    /** IV ‖ header ‖ tag: a raw response with an empty JSON part. */
    public static final int MIN_RESPONSE_LENGTH = IV_LENGTH + HEADER_LENGTH + TAG_LENGTH;
    /**
     * The reference rejects when the difference truncated to whole minutes is &gt; 1, i.e. when it is &ge; 2 minutes.
     */
    static final long MAX_CLOCK_DIFFERENCE_MILLIS = 120_000;

    /** The process's mapper: it refuses "{...} trailing garbage" too, as the reference's Vert.x parser does. */
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final SecureRandom RANDOM = new SecureRandom();

    private EnvelopeCodec() {
    }

    public static String versionMismatch(int receivedVersion) {
        return VERSION_MISMATCH_PREFIX + receivedVersion + ", must be 1.";
    }

    // ---------------------------------------------------------------- server side

    /**
     * Decrypts and validates a request body, with the checks in the order of spec §1. Never modifies {@code body}.
     *
     * @param octetStream the request had {@code Content-Type: application/octet-stream} (raw envelope bytes expected)
     * @throws EnvelopeException with the client-facing message for HTTP 400
     */
    public static DecodedRequest decodeRequest(byte[] body, boolean octetStream, byte[] secret, long nowMillis)
            throws EnvelopeException {
        requireLength(secret, SECRET_LENGTH, "client secret");
        if (body == null || body.length == 0) {
            throw new EnvelopeException(BODY_MISSING);
        }
        if (octetStream) {
            // A raw envelope starts with 0x01, which base64 text never contains. Other bytes that are valid base64
            // are a text envelope sent with the wrong Content-Type: read them as text and answer as text.
            byte[] decoded = body[0] == VERSION ? null : decodeBase64OrNull(body);
            return decoded != null
                    ? open(decoded, true, secret, nowMillis, false)
                    : open(body, false, secret, nowMillis, true);
        }
        byte[] decoded = decodeBase64OrNull(body);
        if (decoded == null) {
            throw new EnvelopeException(looksLikeJson(body) ? UNENCRYPTED_JSON : NOT_BASE64);
        }
        return open(decoded, true, secret, nowMillis, false);
    }

    /** Steps 3 to 7 of spec §1 on the envelope bytes; {@code mayOverwrite}: decrypt in place (our own buffer). */
    private static DecodedRequest open(byte[] envelope, boolean mayOverwrite, byte[] secret, long nowMillis,
                                       boolean binary) throws EnvelopeException {
        if (envelope.length < MIN_REQUEST_LENGTH) {
            throw new EnvelopeException(looksLikeJson(envelope) ? UNENCRYPTED_JSON : TOO_SHORT);
        }
        if (envelope[0] != VERSION) {
            // '{' or '[' can never be a version byte: plain JSON (raw, or base64 of it) gets the more helpful message.
            throw new EnvelopeException(looksLikeJson(envelope) ? UNENCRYPTED_JSON : versionMismatch(envelope[0] & 0xFF));
        }
        int cipherOffset = 1 + IV_LENGTH;
        int cipherLength = envelope.length - cipherOffset;
        byte[] plain = mayOverwrite ? envelope : new byte[cipherLength - TAG_LENGTH];
        int plainOffset = mayOverwrite ? cipherOffset : 0;
        int plainLength;
        try {
            Cipher cipher = gcm(Cipher.DECRYPT_MODE, secret, envelope, 1);
            plainLength = cipher.doFinal(envelope, cipherOffset, cipherLength, plain, plainOffset);
        } catch (AEADBadTagException e) {
            throw new EnvelopeException(WRONG_SECRET);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed unexpectedly", e);
        }

        long timestampMillis = readLongBigEndian(plain, plainOffset);
        if (timestampMillis <= nowMillis - MAX_CLOCK_DIFFERENCE_MILLIS
                || timestampMillis >= nowMillis + MAX_CLOCK_DIFFERENCE_MILLIS) {
            throw new EnvelopeException(BAD_TIMESTAMP);
        }
        byte[] nonce = Arrays.copyOfRange(plain, plainOffset + 8, plainOffset + HEADER_LENGTH);
        JsonNode json;
        try {
            json = JSON.readTree(plain, plainOffset + HEADER_LENGTH, plainLength - HEADER_LENGTH);
        } catch (IOException e) {
            throw new EnvelopeException(INVALID_JSON);
        }
        if (!(json instanceof ObjectNode)) { // also an empty payload, which Jackson reads as a MissingNode
            throw new EnvelopeException(INVALID_JSON);
        }
        return new DecodedRequest(timestampMillis, nonce, (ObjectNode) json, binary);
    }

    /**
     * Encrypts a 200 answer: raw {@code IV ‖ ciphertext ‖ tag} (no version byte). The caller base64-encodes it when
     * the request came as text. For answers too large to hold twice, use {@link ResponseEncryptor}.
     */
    public static byte[] encryptResponse(byte[] json, byte[] nonce, byte[] secret, long nowMillis) {
        return seal(false, json, nonce, secret, nowMillis, randomBytes(IV_LENGTH));
    }

    /** With a chosen IV, so that tests can compare byte for byte. Never reuse an IV with the same secret. */
    static byte[] encryptResponse(byte[] json, byte[] nonce, byte[] secret, long nowMillis, byte[] iv) {
        return seal(false, json, nonce, secret, nowMillis, iv);
    }

    /** Length of the encrypted answer for a JSON of {@code jsonLength} bytes (e.g. for Content-Length). */
    public static long encryptedResponseLength(long jsonLength, boolean base64) {
        long raw = IV_LENGTH + HEADER_LENGTH + jsonLength + TAG_LENGTH;
        return base64 ? (raw + 2) / 3 * 4 : raw;
    }

    // ---------------------------------------------------------------- client side (CLI, tests)

    /** The raw request envelope {@code 0x01 ‖ IV ‖ ciphertext ‖ tag}; send it base64-encoded or as octet-stream. */
    public static byte[] encryptRequest(byte[] json, byte[] secret, long nowMillis, byte[] nonce) {
        return seal(true, json, nonce, secret, nowMillis, randomBytes(IV_LENGTH));
    }

    /** With a chosen IV, so that tests can compare byte for byte with other implementations. */
    static byte[] encryptRequest(byte[] json, byte[] secret, long nowMillis, byte[] nonce, byte[] iv) {
        return seal(true, json, nonce, secret, nowMillis, iv);
    }

    /**
     * Decrypts a raw (already base64-decoded) response envelope and returns its JSON bytes.
     *
     * @param expectedNonceOrNull the nonce sent in the request; {@code null} skips the check (only when unknown)
     * @throws IllegalArgumentException if the data does not authenticate with this secret or the nonce differs
     */
    public static byte[] decryptResponse(byte[] raw, byte[] secret, byte[] expectedNonceOrNull) {
        requireLength(secret, SECRET_LENGTH, "client secret");
        if (raw.length < MIN_RESPONSE_LENGTH) {
            throw new IllegalArgumentException("Response too short to be an encrypted response ("
                    + raw.length + " bytes)");
        }
        byte[] plain;
        try {
            plain = gcm(Cipher.DECRYPT_MODE, secret, raw, 0).doFinal(raw, IV_LENGTH, raw.length - IV_LENGTH);
        } catch (AEADBadTagException e) {
            throw new IllegalArgumentException(
                    "Cannot decrypt response: authentication failed (wrong client secret or corrupted data)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed unexpectedly", e);
        }
        if (expectedNonceOrNull != null && !MessageDigest.isEqual(expectedNonceOrNull,
                Arrays.copyOfRange(plain, 8, HEADER_LENGTH))) {
            throw new IllegalArgumentException("Response nonce does not match the request nonce");
        }
        return Arrays.copyOfRange(plain, HEADER_LENGTH, plain.length);
    }

    public static byte[] randomNonce() {
        return randomBytes(NONCE_LENGTH);
    }

    // ---------------------------------------------------------------- shared

    /** [0x01 ‖] IV ‖ GCM(ts ‖ nonce ‖ json) ‖ tag, encrypted straight into one pre-sized array. */
    private static byte[] seal(boolean withVersion, byte[] json, byte[] nonce, byte[] secret, long nowMillis,
                               byte[] iv) {
        requireLength(secret, SECRET_LENGTH, "client secret");
        requireLength(nonce, NONCE_LENGTH, "nonce");
        requireLength(iv, IV_LENGTH, "IV");
        int ivOffset = withVersion ? 1 : 0;
        int cipherOffset = ivOffset + IV_LENGTH;
        byte[] out = new byte[cipherOffset + HEADER_LENGTH + json.length + TAG_LENGTH];
        if (withVersion) {
            out[0] = VERSION;
        }
        System.arraycopy(iv, 0, out, ivOffset, IV_LENGTH);
        try {
            Cipher cipher = gcm(Cipher.ENCRYPT_MODE, secret, out, ivOffset);
            int written = cipher.update(header(nowMillis, nonce), 0, HEADER_LENGTH, out, cipherOffset);
            cipher.doFinal(json, 0, json.length, out, cipherOffset + written);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed unexpectedly", e);
        }
        return out;
    }

    static Cipher gcm(int mode, byte[] secret, byte[] ivSource, int ivOffset) throws GeneralSecurityException {
        // Cipher.getInstance is cheap next to encrypting an answer, and a fresh Cipher keeps no key between calls.
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(secret, "AES"), new GCMParameterSpec(TAG_LENGTH * 8, ivSource, ivOffset, IV_LENGTH));
        return cipher;
    }

    static byte[] header(long timestampMillis, byte[] nonce) {
        byte[] header = new byte[HEADER_LENGTH];
        for (int i = 0; i < 8; i++) {
            header[i] = (byte) (timestampMillis >>> (56 - 8 * i));
        }
        System.arraycopy(nonce, 0, header, 8, NONCE_LENGTH);
        return header;
    }

    static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    static void requireLength(byte[] bytes, int length, String what) {
        if (bytes == null || bytes.length != length) {
            throw new IllegalArgumentException(what + " must be " + length + " bytes");
        }
    }

    private static long readLongBigEndian(byte[] bytes, int offset) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (bytes[offset + i] & 0xFF);
        }
        return value;
    }

    /**
     * java.util.Base64's basic decoder is exactly the strictness spec §1 asks for: standard alphabet only, no
     * whitespace, missing '=' padding accepted (but not a partial padding such as "QQ=").
     */
    private static byte[] decodeBase64OrNull(byte[] text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** First non-whitespace byte is '{' or '[': someone sent the JSON without encrypting it. */
    static boolean looksLikeJson(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b == '{' || b == '[';
            }
        }
        return false;
    }
}
