package idex.exchange.jobs.translate;

import idex.exchange.identity.ValueNormalizer;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * SHA-256, SHA-1 and MD5 of a string's UTF-8 bytes as lower-case hex. Keeps its digests and buffers so that a row
 * costs one String (the result) and no other allocation for ASCII input. NOT thread-safe: one per translator.
 */
final class Digests {

    /**
     * Digests of finished runs, for the next ones: besides saving the set-up, a MessageDigest that has been through
     * the interpreter once keeps a state that the JIT-compiled code was profiled with, while a new one makes that
     * code deoptimise in every run.
     */
    private static final ConcurrentLinkedQueue<Digests> POOL = new ConcurrentLinkedQueue<>();
    private static final int POOLED = 16;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);
    private static final int MAX_DIGEST_BYTES = 32;

    private final MessageDigest sha256 = digest("SHA-256");
    private final MessageDigest sha1 = digest("SHA-1");
    private final MessageDigest md5 = digest("MD5");
    private final byte[] out = new byte[MAX_DIGEST_BYTES];
    private final byte[] hex = new byte[2 * MAX_DIGEST_BYTES];
    private char[] chars = new char[256];
    private byte[] input = new byte[256];

    /** A Digests of the pool, or a new one. */
    static Digests borrow() {
        Digests d = POOL.poll();
        return d != null ? d : new Digests();
    }

    /** Gives this back to the pool; the caller no longer uses it. */
    void giveBack() {
        if (POOL.size() < POOLED) {
            POOL.add(this);
        }
    }

    String sha256Hex(String value) {
        return hexOf(sha256, value, false);
    }

    /**
     * SHA-256 of an email as {@link ValueNormalizer#email} normalises it (the caller has trimmed it): for ASCII the
     * letters are lower-cased on the way into the digest, without making the lower-cased String first.
     */
    String emailSha256Hex(String trimmed) {
        return hexOf(sha256, trimmed, true);
    }

    String sha1Hex(String value) {
        return hexOf(sha1, value, false);
    }

    String md5Hex(String value) {
        return hexOf(md5, value, false);
    }

    private String hexOf(MessageDigest md, String value, boolean email) {
        int length = value.length();
        if (chars.length < length) {
            chars = new char[Math.max(length, 2 * chars.length)];
            input = new byte[chars.length];
        }
        value.getChars(0, length, chars, 0); // one bulk copy: cheaper than charAt's checks for every character
        boolean ascii = true;
        for (int i = 0; i < length; i++) {
            char c = chars[i];
            if (c >= 0x80) {
                ascii = false;
                break;
            }
            if (email && c >= 'A' && c <= 'Z') {
                c += 'a' - 'A'; // Locale.ROOT lower-casing of ASCII
            }
            input[i] = (byte) c; // ASCII is its own UTF-8 encoding
        }
        if (ascii) {
            md.update(input, 0, length);
        } else {
            // rare: let the JDK lower-case and encode
            md.update((email ? ValueNormalizer.email(value) : value).getBytes(StandardCharsets.UTF_8));
        }
        int n = md.getDigestLength();
        try {
            md.digest(out, 0, n);
        } catch (DigestException impossible) {
            throw new IllegalStateException(impossible);
        }
        for (int i = 0; i < n; i++) {
            hex[2 * i] = HEX[(out[i] >> 4) & 0xF];
            hex[2 * i + 1] = HEX[out[i] & 0xF];
        }
        return new String(hex, 0, 2 * n, StandardCharsets.ISO_8859_1); // Latin-1 bytes are a String's own: one copy
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from the JDK", e);
        }
    }
}
