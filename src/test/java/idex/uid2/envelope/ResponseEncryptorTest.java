package idex.uid2.envelope;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResponseEncryptorTest {
    private static final long NOW = 1_717_250_400_123L;
    private static final byte[] SECRET = EnvelopeCodecTest.bytes(32, 11);
    private static final byte[] NONCE = EnvelopeCodecTest.bytes(8, 12);
    private static final byte[] IV = EnvelopeCodecTest.bytes(12, 13);

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 15, 16, 17, 31, 32, 33, 1000, 4095, 65_537, 300_001})
    void chunkedOutputEqualsOneShotEncryption(int size) {
        Random random = new Random(size);
        for (int round = 0; round < 8; round++) {
            byte[] json = new byte[size];
            random.nextBytes(json);
            byte[] expected = EnvelopeCodec.encryptResponse(json, NONCE, SECRET, NOW, IV);

            assertThat(encryptInRandomChunks(json, false, random)).isEqualTo(expected);
            assertThat(encryptInRandomChunks(json, true, random)).isEqualTo(Base64.getEncoder().encode(expected));
        }
    }

    @Test
    void randomSizesAndChunkingsDecrypt() {
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            byte[] json = new byte[random.nextInt(200_000)];
            random.nextBytes(json);
            ResponseEncryptor encryptor = new ResponseEncryptor(SECRET, NONCE, NOW, true);
            byte[] text = encrypt(encryptor, json, random);

            byte[] raw = Base64.getDecoder().decode(text);
            assertThat(EnvelopeCodec.decryptResponse(raw, SECRET, NONCE)).isEqualTo(json);
        }
    }

    @Test
    void base64PiecesAreWholeGroupsUntilTheEnd() {
        ResponseEncryptor encryptor = new ResponseEncryptor(SECRET, NONCE, NOW, true);
        byte[] json = new byte[1000];
        for (int off = 0; off < json.length; off += 7) {
            byte[] piece = encryptor.update(json, off, Math.min(7, json.length - off));
            assertThat(piece.length % 4).isZero();
            assertThat(new String(piece)).doesNotContain("=");
        }
        assertThat(encryptor.finish().length % 4).isZero();
    }

    @Test
    void finishIsFinal() {
        ResponseEncryptor encryptor = new ResponseEncryptor(SECRET, NONCE, NOW, false);
        encryptor.finish();
        assertThatThrownBy(encryptor::finish).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> encryptor.update(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rejectsOutOfRangeSlices() {
        ResponseEncryptor encryptor = new ResponseEncryptor(SECRET, NONCE, NOW, false);
        assertThatThrownBy(() -> encryptor.update(new byte[4], 3, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static byte[] encryptInRandomChunks(byte[] json, boolean base64, Random random) {
        return encrypt(new ResponseEncryptor(SECRET, NONCE, NOW, base64, IV), json, random);
    }

    /** Feeds json in random slices (including empty ones) taken from inside a larger array. */
    private static byte[] encrypt(ResponseEncryptor encryptor, byte[] json, Random random) {
        byte[] padded = new byte[json.length + 10];
        System.arraycopy(json, 0, padded, 5, json.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int position = 0;
        while (position < json.length) {
            int chunk = random.nextInt(4) == 0 ? random.nextInt(5) : random.nextInt(Math.max(1, json.length / 3) + 1);
            chunk = Math.min(chunk, json.length - position);
            out.writeBytes(encryptor.update(padded, 5 + position, chunk));
            position += chunk;
        }
        out.writeBytes(encryptor.finish());
        return out.toByteArray();
    }
}
