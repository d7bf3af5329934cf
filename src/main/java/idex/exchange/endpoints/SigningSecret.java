package idex.exchange.endpoints;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The key an event destination verifies our requests with (Standard Webhooks): 32 random bytes, shown to its owner
 * as {@code whsec_<base64>}. {@link #toString()} never reveals it.
 */
public record SigningSecret(byte[] key) {

    public static final String PREFIX = "whsec_";
    private static final int BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    public SigningSecret {
        key = key.clone();
    }

    public static SigningSecret generate() {
        byte[] key = new byte[BYTES];
        RANDOM.nextBytes(key);
        return new SigningSecret(key);
    }

    /** A secret given as {@code whsec_<base64>}; the message of a refusal never repeats the text. */
    public static SigningSecret parse(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a signing secret starts with " + PREFIX);
        }
        try {
            byte[] key = Base64.getDecoder().decode(text.substring(PREFIX.length()));
            if (key.length == 0) {
                throw new IllegalArgumentException("a signing secret has a key after " + PREFIX);
            }
            return new SigningSecret(key);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a signing secret is " + PREFIX + " then standard base64");
        }
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    public String text() {
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigningSecret other && Arrays.equals(key, other.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "SigningSecret[whsec_…]";
    }
}
