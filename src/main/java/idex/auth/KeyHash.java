package idex.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Salted SHA-256 of a bearer key, the only form in which keys are stored. Keys carry 256 random bits, so a fast
 * hash is enough: there is nothing to brute-force, and authentication stays cheap on every request.
 */
public final class KeyHash {

    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyHash() {
    }

    public static byte[] of(String key, byte[] salt) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            return sha.digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static boolean matches(String key, byte[] salt, byte[] hash) {
        return MessageDigest.isEqual(of(key, salt), hash);
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Random text safe in URLs, headers and shells. */
    public static String randomToken(int bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(bytes));
    }

    /** The token of an `Authorization: Bearer …` header value, or null when there is none. */
    public static String bearerToken(String header) {
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
