package idex.uid2.clients;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Salted SHA-256 of a client key. The keys carry 256 random bits, so a fast hash is enough: there is nothing to
 * brute-force, and authentication stays cheap on every request.
 */
final class ClientKeyHash {

    private ClientKeyHash() {
    }

    static byte[] of(String key, byte[] salt) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            return sha.digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean matches(String key, ClientKey stored) {
        return MessageDigest.isEqual(of(key, stored.keySalt()), stored.keyHash());
    }

    /** The public part of a key that names its row: everything before the '.'. */
    static String keyIdOf(String key) {
        int dot = key.indexOf('.');
        return dot > 0 ? key.substring(0, dot) : null;
    }
}
