package idex.uid2.map;

import idex.uid2.salts.KeyMaterial;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * The identity → raw UID hash chain of spec §5. Mapping has to sustain ~500,000 emails/s on 2 cores, so an instance
 * keeps its digest, cipher and scratch buffers and reuses them; the only allocation per call is the returned array.
 * NOT thread-safe: use one instance per thread ({@link #forThread()}).
 */
public final class IdentityHasher {
    private static final ThreadLocal<IdentityHasher> PER_THREAD = ThreadLocal.withInitial(IdentityHasher::new);
    private static final Base64.Encoder BASE64 = Base64.getEncoder();
    private static final int HASH_BYTES = 32;
    private static final int HASH_BASE64_CHARS = 44;
    private static final int HALF_HASH = 16;
    private static final int IV_BYTES = 12;
    private static final int RAW_UID_V4_BYTES = 33;
    private static final int V4_VERSION_BITS = 0x20;

    private final MessageDigest sha256 = newSha256();
    private final byte[] hashBase64 = new byte[HASH_BASE64_CHARS];
    private final byte[] digest = new byte[HASH_BYTES];
    private final byte[] counterBlock = new byte[16]; // iv ‖ 00 00 00 00; the last 4 bytes stay zero
    private final byte[] keyStream = new byte[16];
    private final AesKeyCache aesKeys = new AesKeyCache();
    private byte[] scratch = new byte[128];

    /** This thread's instance. */
    public static IdentityHasher forThread() {
        return PER_THREAD.get();
    }

    /** SHA-256 of the UTF-8 bytes of a normalised email or phone. */
    public byte[] identityHash(String normalized) {
        int length = normalized.length();
        byte[] buffer = scratch(length);
        for (int i = 0; i < length; i++) {
            char c = normalized.charAt(i);
            if (c >= 0x80) {
                // Rare non-ASCII input: let the JDK do the UTF-8 encoding.
                return sha256.digest(normalized.getBytes(StandardCharsets.UTF_8));
            }
            buffer[i] = (byte) c; // ASCII is its own UTF-8 encoding
        }
        sha256.update(buffer, 0, length);
        return sha256.digest();
    }

    /** SHA-256( ASCII(base64(identity hash)) ‖ first-level salt ). */
    public byte[] firstLevelHash(byte[] identityHash, byte[] firstLevelSaltAscii) {
        return hashOfBase64And(identityHash, firstLevelSaltAscii);
    }

    /**
     * Position of the bucket for a first level hash. The reference takes 20 bits (flh[0], flh[1], low nibble of
     * flh[2]) and reduces them modulo the bucket count; with exactly 2^20 buckets the modulo is the identity.
     */
    public static int bucketIndex(byte[] firstLevelHash, int bucketCount) {
        int twentyBits = (firstLevelHash[0] & 0xFF) << 12 | (firstLevelHash[1] & 0xFF) << 4 | (firstLevelHash[2] & 0x0F);
        return twentyBits % bucketCount;
    }

    /** Raw UID2 v2 (32 bytes) = SHA-256( ASCII(base64(first level hash)) ‖ bucket salt ). */
    public byte[] rawUidV2(byte[] firstLevelHash, byte[] bucketSaltAscii) {
        return hashOfBase64And(firstLevelHash, bucketSaltAscii);
    }

    /**
     * Raw UID2 v4 (33 bytes) for a bucket that carries key material:
     * meta ‖ keyId(3, big-endian) ‖ iv(12) ‖ AES-CTR(last 16 bytes of flh) ‖ xor of the previous 32 bytes.
     *
     * @param scopeBit UID2 0, EUID 1
     * @param envBits  test 0, integ 1, prod 2
     */
    public byte[] rawUidV4(byte[] firstLevelHash, KeyMaterial key, IdentityType type, int scopeBit, int envBits) {
        requireHash(firstLevelHash);
        if (scopeBit < 0 || scopeBit > 1 || envBits < 0 || envBits > 2) {
            throw new IllegalArgumentException("scopeBit must be 0..1 and envBits 0..2");
        }
        byte meta = (byte) (V4_VERSION_BITS | scopeBit << 4 | type.bit() << 2 | envBits << 6);
        int keyId = key.keyId();

        // iv = SHA-256( ASCII(key salt) ‖ flh[16..32) ‖ meta ‖ keyId )[0..12)
        String keySalt = key.salt();
        int saltLength = keySalt.length();
        byte[] ivInput = scratch(saltLength + HALF_HASH + 4);
        for (int i = 0; i < saltLength; i++) {
            ivInput[i] = (byte) keySalt.charAt(i); // key salts are validated ASCII
        }
        int p = saltLength;
        System.arraycopy(firstLevelHash, HALF_HASH, ivInput, p, HALF_HASH);
        p += HALF_HASH;
        ivInput[p++] = meta;
        ivInput[p++] = (byte) (keyId >>> 16);
        ivInput[p++] = (byte) (keyId >>> 8);
        ivInput[p++] = (byte) keyId;
        sha256.update(ivInput, 0, p);
        digestInto(digest);

        byte[] uid = new byte[RAW_UID_V4_BYTES];
        uid[0] = meta;
        uid[1] = (byte) (keyId >>> 16);
        uid[2] = (byte) (keyId >>> 8);
        uid[3] = (byte) keyId;
        System.arraycopy(digest, 0, uid, 4, IV_BYTES);

        // AES-CTR over 16 bytes uses a single counter block, so it equals XOR with AES-ECB(iv ‖ 0^4); ECB lets the
        // cipher keep its key schedule instead of being re-initialised with a new IV on every call.
        System.arraycopy(digest, 0, counterBlock, 0, IV_BYTES);
        aesKeys.encryptBlock(key.key(), counterBlock, keyStream);
        for (int i = 0; i < HALF_HASH; i++) {
            uid[4 + IV_BYTES + i] = (byte) (firstLevelHash[HALF_HASH + i] ^ keyStream[i]);
        }

        byte checksum = 0;
        for (int i = 0; i < RAW_UID_V4_BYTES - 1; i++) {
            checksum ^= uid[i];
        }
        uid[RAW_UID_V4_BYTES - 1] = checksum;
        return uid;
    }

    private byte[] hashOfBase64And(byte[] hash, byte[] saltAscii) {
        requireHash(hash);
        BASE64.encode(hash, hashBase64); // into the reusable buffer: no String, no array
        sha256.update(hashBase64);
        sha256.update(saltAscii);
        return sha256.digest();
    }

    private void digestInto(byte[] out) {
        try {
            sha256.digest(out, 0, HASH_BYTES);
        } catch (DigestException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    private byte[] scratch(int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        return scratch;
    }

    private static void requireHash(byte[] hash) {
        if (hash.length != HASH_BYTES) {
            throw new IllegalArgumentException("expected a 32-byte hash, got " + hash.length + " bytes");
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * AES ciphers already keyed, by key string. Buckets share a small set of keys in practice, so most calls skip
     * Cipher.init (which costs more than the rest of the raw UID); past {@link #MAX_KEYS} keys an arbitrary entry's
     * cipher is re-keyed, so memory stays bounded whatever the snapshot holds.
     */
    private static final class AesKeyCache {
        private static final int MAX_KEYS = 256;
        private final Map<String, Cipher> byKey = new HashMap<>();

        void encryptBlock(String key, byte[] block, byte[] out) {
            try {
                Cipher cipher = byKey.get(key);
                if (cipher == null) {
                    cipher = keyed(key);
                }
                cipher.doFinal(block, 0, 16, out, 0);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("unusable AES key material", e);
            }
        }

        private Cipher keyed(String key) throws GeneralSecurityException {
            Cipher cipher;
            if (byKey.size() >= MAX_KEYS) {
                Iterator<Cipher> any = byKey.values().iterator();
                cipher = any.next();
                any.remove();
            } else {
                cipher = Cipher.getInstance("AES/ECB/NoPadding");
            }
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key.getBytes(StandardCharsets.US_ASCII), "AES"));
            byKey.put(key, cipher); // only once init succeeded: a bad key never sits in the cache
            return cipher;
        }
    }
}
