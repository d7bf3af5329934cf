package idex.uid2.map;

import static idex.uid2.map.IdentityNormalizer.decodeHash;
import static idex.uid2.map.IdentityNormalizer.isNormalizedPhone;
import static idex.uid2.map.IdentityNormalizer.normalizeEmail;
import static org.assertj.core.api.Assertions.assertThat;

import com.uid2.client.InputUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IdentityNormalizerTest {

    @ParameterizedTest(name = "[{0}] -> [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "user@example.com|user@example.com",
        "User@Example.COM|user@example.com",
        "'  us er @example.com'|user@example.com",        // every space before '@' goes
        "'user@example.com   '|user@example.com",         // trailing spaces go
        "'user@ example.com'|'user@ example.com'",        // a leading domain space stays (reference behaviour)
        "'user@exa mple.com  '|'user@exa mple.com'",      // inner domain spaces stay
        "Jane.Doe+x@Gmail.com|janedoe@gmail.com",
        "'j.a.n.e+a+b@GMAIL.COM  '|jane@gmail.com",
        "'j a.ne @gmail.com'|jane@gmail.com",
        "jane.doe+x@gmail.co|jane.doe+x@gmail.co",         // only exactly gmail.com is special
        "jane.doe+x@googlemail.com|jane.doe+x@googlemail.com",
        "'jane.doe@ gmail.com'|'jane.doe@ gmail.com'",    // ' gmail.com' is not gmail.com
        "jane.doe@mail.gmail.com|jane.doe@mail.gmail.com",
        "ÉMILE@EXAMPLE.COM|Émile@example.com",            // only ASCII A-Z are lower-cased
        "'a\tb@example.com'|'a\tb@example.com'",           // only ' ' counts as a space
        ".@example.com|.@example.com",
        "+@example.com|+@example.com",
    })
    void normalizesEmails(String raw, String expected) {
        assertThat(normalizeEmail(raw)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{0}] is invalid")
    @ValueSource(strings = {"bad", "", " ", "@", "user@", "user@   ", "@example.com", "   @example.com",
        "a@b@c", "user@example.com@", "@@", ".+x@gmail.com", "+jane@gmail.com", "..@gmail.com"})
    void rejectsInvalidEmails(String raw) {
        assertThat(normalizeEmail(raw)).isNull();
    }

    @Test
    void rejectsNullEmail() {
        assertThat(normalizeEmail(null)).isNull();
    }

    /** Differential check against the public UID2 client SDK's own copy of the reference normaliser. */
    @Test
    void agreesWithTheUid2ClientSdkOnRandomInputs() throws Exception {
        char[] alphabet = {'a', 'B', 'z', 'Z', '.', '+', '@', ' ', '1', '-', '_', 'é', '\t'};
        String[] gmailish = {"gmail.com", "Gmail.Com", "gmail.com  ", " gmail.com", "gmail.co"};
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder s = new StringBuilder();
            int length = random.nextInt(12);
            for (int j = 0; j < length; j++) {
                s.append(alphabet[random.nextInt(alphabet.length)]);
            }
            if (random.nextBoolean()) {
                s.append('@').append(gmailish[random.nextInt(gmailish.length)]);
            }
            String raw = s.toString();
            assertThat(ourHash(raw)).as("input [%s]", raw).isEqualTo(sdkHash(raw));
        }
    }

    private static String ourHash(String raw) throws Exception {
        String normalized = normalizeEmail(raw);
        if (normalized == null) {
            return "invalid";
        }
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(normalized.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(sha);
    }

    private static String sdkHash(String raw) {
        try {
            return InputUtil.normalizeAndHashEmail(raw);
        } catch (IllegalArgumentException invalid) {
            return "invalid";
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"+1234567890", "+123456789012345", "+00000000000"})
    void acceptsNormalizedPhones(String phone) {
        assertThat(isNormalizedPhone(phone)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "+", "1234567890", "+123456789", "+1234567890123456", "+1 234567890", "+123456789a",
        "++1234567890", "+12345678901 ", " +12345678901", "+١٢٣٤٥٦٧٨٩٠"})
    void rejectsOtherPhones(String phone) {
        assertThat(isNormalizedPhone(phone)).isFalse();
    }

    @Test
    void rejectsNullPhone() {
        assertThat(isNormalizedPhone(null)).isFalse();
    }

    @Test
    void decodesBase64AndHexHashes() {
        byte[] expected = new byte[32];
        for (int i = 0; i < 32; i++) {
            expected[i] = (byte) (i * 7 + 0xA0);
        }
        String base64 = Base64.getEncoder().encodeToString(expected);
        StringBuilder hex = new StringBuilder();
        for (byte b : expected) {
            hex.append(String.format("%02x", b));
        }
        assertThat(decodeHash(base64)).isEqualTo(expected);
        assertThat(decodeHash(hex.toString())).isEqualTo(expected);
        assertThat(decodeHash(hex.toString().toUpperCase())).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ",      // 43 chars: padding missing
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ==",    // 45 chars
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf_F5HVRQ=",     // URL-safe alphabet
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf F5HVRQ=",     // whitespace
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVR==",     // 44 chars but 31 bytes
        "tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQA",     // 44 chars but 33 bytes
        "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514a",  // 65 hex
        "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e47551",    // 63 hex
        "g4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514",   // not hex
    })
    void rejectsMalformedHashes(String hash) {
        assertThat(decodeHash(hash)).isNull();
    }

    @Test
    void rejectsNullHash() {
        assertThat(decodeHash(null)).isNull();
    }
}
