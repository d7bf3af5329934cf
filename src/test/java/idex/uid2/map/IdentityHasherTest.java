package idex.uid2.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import idex.uid2.salts.KeyMaterial;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Checks the optimised hasher against a literal, allocation-happy reading of spec §5. */
class IdentityHasherTest {
    private static final byte[] FIRST_LEVEL_SALT = ascii("fOGY/aRE44peL23i+cE9MkJrzmEeNZZziNZBfq7qqk8=");
    private static final byte[] BUCKET_SALT = ascii("vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLnst=");
    private static final KeyMaterial KEY_A = new KeyMaterial(2100002, "key12345key12345key12345key12340",
            "salt1234salt1234salt1234salt1230");
    private static final KeyMaterial KEY_B = new KeyMaterial(2000003, "key12345key12345key12345key12346",
            "salt1234salt1234salt1234salt1235");

    private final IdentityHasher hasher = new IdentityHasher();

    @Test
    void identityHashIsSha256OfUtf8() throws Exception {
        for (String s : new String[] {"user@example.com", "", "émile@example.com", "用户@例子.广告", "+12345678901"}) {
            assertThat(hasher.identityHash(s)).as(s).isEqualTo(sha256(s.getBytes(StandardCharsets.UTF_8)));
        }
        String longEmail = "a".repeat(1000) + "@example.com"; // beyond the initial scratch buffer
        assertThat(hasher.identityHash(longEmail)).isEqualTo(sha256(ascii(longEmail)));
    }

    @Test
    void knownIdentityHash() {
        // echo -n user@example.com | sha256sum
        assertThat(Base64.getEncoder().encodeToString(hasher.identityHash("user@example.com")))
                .isEqualTo("tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=");
    }

    @Test
    void firstLevelHashAndRawUidV2FollowTheSpec() throws Exception {
        for (String email : new String[] {"user@example.com", "janedoe@gmail.com", "x@y.z"}) {
            byte[] identityHash = hasher.identityHash(email);
            byte[] expectedFlh = sha256(concat(ascii(b64(identityHash)), FIRST_LEVEL_SALT));
            byte[] flh = hasher.firstLevelHash(identityHash, FIRST_LEVEL_SALT);
            assertThat(flh).isEqualTo(expectedFlh);
            assertThat(hasher.rawUidV2(flh, BUCKET_SALT)).isEqualTo(sha256(concat(ascii(b64(flh)), BUCKET_SALT)));
        }
    }

    @Test
    void rawUidV4FollowsTheSpecForEveryScopeTypeAndEnvironment() throws Exception {
        byte[] flh = hasher.firstLevelHash(hasher.identityHash("user@example.com"), FIRST_LEVEL_SALT);
        for (KeyMaterial key : new KeyMaterial[] {KEY_A, KEY_B, KEY_A}) { // alternating keys exercise the cipher cache
            for (IdentityType type : IdentityType.values()) {
                for (int scope = 0; scope <= 1; scope++) {
                    for (int env = 0; env <= 2; env++) {
                        byte[] uid = hasher.rawUidV4(flh, key, type, scope, env);
                        assertThat(uid).hasSize(33).isEqualTo(literalRawUidV4(flh, key, type, scope, env));
                    }
                }
            }
        }
    }

    @Test
    void rawUidV4StaysRightWhenMoreKeysThanTheCipherCacheHolds() throws Exception {
        byte[] flh = hasher.firstLevelHash(hasher.identityHash("user@example.com"), FIRST_LEVEL_SALT);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 300; i++) {
                KeyMaterial key = new KeyMaterial(i, String.format("key12345key12345key12345key%05d", i), "s" + i);
                assertThat(hasher.rawUidV4(flh, key, IdentityType.PHONE, 1, 1))
                        .isEqualTo(literalRawUidV4(flh, key, IdentityType.PHONE, 1, 1));
            }
        }
    }

    @Test
    void rawUidV4MetadataByte() {
        byte[] flh = new byte[32];
        assertThat(hasher.rawUidV4(flh, KEY_A, IdentityType.EMAIL, 0, 0)[0]).isEqualTo((byte) 0x20);
        assertThat(hasher.rawUidV4(flh, KEY_A, IdentityType.PHONE, 0, 0)[0]).isEqualTo((byte) 0x24);
        assertThat(hasher.rawUidV4(flh, KEY_A, IdentityType.EMAIL, 1, 0)[0]).isEqualTo((byte) 0x30);
        assertThat(hasher.rawUidV4(flh, KEY_A, IdentityType.EMAIL, 0, 2)[0]).isEqualTo((byte) 0xA0);
        assertThat(Arrays.copyOfRange(hasher.rawUidV4(flh, KEY_A, IdentityType.EMAIL, 0, 0), 1, 4))
                .containsExactly(0x20, 0x0B, 0x22); // 2100002 big-endian
    }

    @Test
    void rejectsWrongSizedHashesAndBits() {
        assertThatThrownBy(() -> hasher.firstLevelHash(new byte[31], FIRST_LEVEL_SALT))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> hasher.rawUidV2(new byte[33], BUCKET_SALT))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> hasher.rawUidV4(new byte[32], KEY_A, IdentityType.EMAIL, 2, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> hasher.rawUidV4(new byte[32], KEY_A, IdentityType.EMAIL, 0, 3))
                .isInstanceOf(IllegalArgumentException.class);
        KeyMaterial shortKey = new KeyMaterial(1, "tooshort", "salt");
        assertThatThrownBy(() -> hasher.rawUidV4(new byte[32], shortKey, IdentityType.EMAIL, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        // a failed key must not poison the cache slot
        assertThat(hasher.rawUidV4(new byte[32], KEY_A, IdentityType.EMAIL, 0, 0)).hasSize(33);
    }

    @Test
    void bucketIndexUsesTwentyBitsThenModulo() {
        byte[] flh = new byte[32];
        flh[0] = (byte) 0xAB;
        flh[1] = (byte) 0xCD;
        flh[2] = (byte) 0xEF;
        int twentyBits = 0xABCDF; // 0xAB << 12 | 0xCD << 4 | 0xF
        assertThat(IdentityHasher.bucketIndex(flh, 1_048_576)).isEqualTo(twentyBits);
        assertThat(IdentityHasher.bucketIndex(flh, 5)).isEqualTo(twentyBits % 5);
        assertThat(IdentityHasher.bucketIndex(flh, 1_000_000)).isEqualTo(twentyBits % 1_000_000);
        Arrays.fill(flh, (byte) 0xFF);
        assertThat(IdentityHasher.bucketIndex(flh, 1_048_576)).isEqualTo(1_048_575);
    }

    @Test
    void forThreadGivesOneInstancePerThread() throws Exception {
        IdentityHasher mine = IdentityHasher.forThread();
        assertThat(IdentityHasher.forThread()).isSameAs(mine);
        IdentityHasher other = CompletableFuture.supplyAsync(IdentityHasher::forThread).get();
        assertThat(other).isNotSameAs(mine);
    }

    private static byte[] literalRawUidV4(byte[] flh, KeyMaterial key, IdentityType type, int scope, int env)
            throws Exception {
        byte meta = (byte) (0x20 | (scope << 4) | (type.bit() << 2) | (env << 6));
        byte[] keyId = {(byte) (key.keyId() >> 16), (byte) (key.keyId() >> 8), (byte) key.keyId()};
        byte[] last16 = Arrays.copyOfRange(flh, 16, 32);
        byte[] iv = Arrays.copyOf(sha256(concat(ascii(key.salt()), last16, new byte[] {meta}, keyId)), 12);
        Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
        ctr.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(ascii(key.key()), "AES"),
                new IvParameterSpec(Arrays.copyOf(iv, 16)));
        byte[] body = concat(new byte[] {meta}, keyId, iv, ctr.doFinal(last16));
        byte x = 0;
        for (byte b : body) {
            x ^= b;
        }
        return concat(body, new byte[] {x});
    }

    private static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
