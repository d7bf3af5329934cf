package idex.uid2.envelope;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DecryptedResponseStreamTest {
    private static final long NOW = 1_717_250_400_123L;
    private static final byte[] SECRET = EnvelopeCodecTest.bytes(32, 21);
    private static final byte[] OTHER_SECRET = EnvelopeCodecTest.bytes(32, 22);
    private static final byte[] NONCE = EnvelopeCodecTest.bytes(8, 23);

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 65_535, 65_536, 65_537, 300_001})
    void decryptsWhatTheServerEncrypts(int size) throws IOException {
        Random random = new Random(size);
        byte[] json = new byte[size];
        random.nextBytes(json);
        byte[] raw = EnvelopeCodec.encryptResponse(json, NONCE, SECRET, NOW);

        try (DecryptedResponseStream stream = DecryptedResponseStream.open(new ByteArrayInputStream(raw), SECRET, NONCE)) {
            assertThat(stream.nonce()).isEqualTo(NONCE);
            assertThat(stream.timestampMillis()).isEqualTo(NOW);
            assertThat(stream.readAllBytes()).isEqualTo(json);
        }
        // Input that arrives a few bytes at a time, as from a network, decrypts the same.
        try (DecryptedResponseStream stream = DecryptedResponseStream.open(new Trickle(raw, random), SECRET, null)) {
            assertThat(stream.readAllBytes()).isEqualTo(json);
        }
    }

    @Test
    void everyChangedByteFailsAuthenticationAtTheEnd() throws IOException {
        byte[] json = "{\"body\":[],\"status\":\"success\"}".getBytes();
        byte[] raw = EnvelopeCodec.encryptResponse(json, NONCE, SECRET, NOW);
        for (int i = 0; i < raw.length; i++) {
            byte[] tampered = raw.clone();
            tampered[i] ^= 0x01;
            int position = i;
            assertThatThrownBy(() -> DecryptedResponseStream.open(new ByteArrayInputStream(tampered), SECRET, null)
                    .transferTo(OutputStream.nullOutputStream()))
                    .as("byte %d changed", position)
                    .isInstanceOf(ResponseAuthenticationException.class)
                    .hasMessageContaining("authentication failed");
        }
    }

    @Test
    void plaintextComesBeforeTheTagIsChecked() throws IOException {
        byte[] json = new byte[200_000];
        byte[] raw = EnvelopeCodec.encryptResponse(json, NONCE, SECRET, NOW);
        raw[raw.length - 1] ^= 0x01;

        DecryptedResponseStream stream = DecryptedResponseStream.open(new ByteArrayInputStream(raw), SECRET, NONCE);
        assertThat(stream.readNBytes(100_000)).isEqualTo(new byte[100_000]);
        assertThatThrownBy(stream::readAllBytes).isInstanceOf(ResponseAuthenticationException.class);
    }

    @Test
    void anotherNonceIsRejectedButAWrongSecretIsReportedAsSuch() {
        byte[] raw = EnvelopeCodec.encryptResponse("{}".getBytes(), NONCE, SECRET, NOW);

        assertThatThrownBy(() -> DecryptedResponseStream.open(new ByteArrayInputStream(raw), SECRET, new byte[8]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Response nonce does not match the request nonce");
        assertThatThrownBy(() -> DecryptedResponseStream.open(new ByteArrayInputStream(raw), OTHER_SECRET, NONCE))
                .isInstanceOf(ResponseAuthenticationException.class);
    }

    @Test
    void tooShortForAnEnvelope() {
        for (int length : new int[]{0, 11, 12, 27, 43}) {
            assertThatThrownBy(() -> DecryptedResponseStream.open(new ByteArrayInputStream(new byte[length]), SECRET, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("Response too short to be an encrypted response (" + length + " bytes)");
        }
    }

    /** Hands out 1 to 40 bytes per read. */
    private static final class Trickle extends InputStream {
        private final byte[] data;
        private final Random random;
        private int position;

        Trickle(byte[] data, Random random) {
            this.data = data;
            this.random = random;
        }

        @Override
        public int read() {
            return position < data.length ? data[position++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position == data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, 1 + random.nextInt(40)), data.length - position);
            System.arraycopy(data, position, b, off, n);
            position += n;
            return n;
        }
    }
}
