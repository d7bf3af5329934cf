package idex.exchange.endpoints;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The HMAC key an endpoint's deliveries are signed with, written as Standard Webhooks does: {@code whsec_} and the key
 * in standard base64. The key never appears in {@link #toString()} or in an error message, so logging a secret by
 * mistake leaks nothing.
 */
public record SigningSecret(byte[] key) {

    private static final String PREFIX = "whsec_";
    // The Standard Webhooks spec recommends keys of 24 to 64 bytes: shorter is guessable, longer gains nothing.
    private static final int MIN_BYTES = 24;
    private static final int MAX_BYTES = 64;
    private static final int GENERATED_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    public SigningSecret {
        if (key == null) {
            throw new IllegalArgumentException("a signing secret needs a key");
        }
        if (key.length < MIN_BYTES || key.length > MAX_BYTES) {
            throw new IllegalArgumentException(
                    "a signing secret must be " + MIN_BYTES + " to " + MAX_BYTES + " bytes, not " + key.length);
        }
        key = key.clone(); // the caller's array may change later
    }

    public static SigningSecret generate() {
        byte[] key = new byte[GENERATED_BYTES];
        RANDOM.nextBytes(key);
        return new SigningSecret(key);
    }

    /** Reads {@code whsec_<standard base64>}; the message of a refusal never contains the text it was given. */
    public static SigningSecret parse(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a signing secret must start with " + PREFIX);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            // Base64's own message may quote a character of the secret: not passed on.
            throw new IllegalArgumentException("a signing secret must be " + PREFIX + " followed by standard base64");
        }
        return new SigningSecret(key);
    }

    /** A copy: the record stays immutable whatever the caller does with the array. */
    @Override
    public byte[] key() {
        return key.clone();
    }

    public String text() {
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    @Override
    public boolean equals(Object other) {
        // Constant time, so comparing secrets tells nothing through timing.
        return other instanceof SigningSecret that && MessageDigest.isEqual(key, that.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "SigningSecret[" + PREFIX + "…]";
    }
}
