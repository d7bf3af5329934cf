package idex.uid2.envelope;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * The JSON of a raw response envelope ({@code IV ‖ GCM(ts ‖ nonce ‖ JSON) ‖ tag}, already base64-decoded), decrypted
 * as it is read, in constant memory whatever the answer's size.
 * <p>
 * The JDK's AES-GCM decryption holds the whole ciphertext until {@code doFinal}, so this decrypts with AES-CTR from
 * GCM's first data counter, and authenticates by encrypting the recovered plaintext again with AES-GCM (encryption
 * streams) and comparing that tag with the received one. The tag is only known at the end: the bytes read before
 * are <b>not authenticated</b> until {@link #read} has returned -1; a mismatch is reported there, as a
 * {@link ResponseAuthenticationException}. Not thread-safe.
 */
public final class DecryptedResponseStream extends InputStream {
    private static final int CHUNK = 64 * 1024;
    /**
     * CTR increments the whole 128-bit counter, GCM only its low 32 bits: they agree as long as those do not wrap,
     * which is GCM's own length limit (2^32 - 2 blocks).
     */
    private static final long MAX_CIPHERTEXT_LENGTH = ((1L << 32) - 2) * 16;

    private final InputStream envelope;
    private final Cipher ctr;
    private final Cipher gcm;
    /** Received bytes; the last TAG_LENGTH of them may be the tag, so they are held back until more come. */
    private final byte[] received = new byte[CHUNK + EnvelopeCodec.TAG_LENGTH];
    private int receivedLength;
    private long ciphertextLength;
    private final byte[] plain = new byte[CHUNK];
    private int plainStart;
    private int plainEnd;
    /** GCM's ciphertext output is the received ciphertext again: only its tag is of use. */
    private final byte[] discarded = new byte[CHUNK + 2 * EnvelopeCodec.TAG_LENGTH];
    private boolean ended;
    private long timestampMillis;
    private byte[] nonce;

    private DecryptedResponseStream(InputStream envelope, byte[] secret, byte[] iv) {
        this.envelope = envelope;
        try {
            SecretKeySpec key = new SecretKeySpec(secret, "AES");
            // For a 12-byte IV, GCM's J0 is IV ‖ 00000001 and the data is encrypted from J0 + 1.
            byte[] firstCounter = Arrays.copyOf(iv, 16);
            firstCounter[15] = 2;
            this.ctr = Cipher.getInstance("AES/CTR/NoPadding");
            ctr.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(firstCounter));
            this.gcm = EnvelopeCodec.gcm(Cipher.ENCRYPT_MODE, secret, iv, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES initialisation failed unexpectedly", e);
        }
    }

    /**
     * Reads the IV and the plaintext header; the stream is then positioned at the JSON.
     *
     * @param expectedNonceOrNull the nonce sent in the request; {@code null} skips the check (only when unknown)
     * @throws IllegalArgumentException if the envelope is too short, or authenticates but has another nonce
     * @throws ResponseAuthenticationException if a wrong nonce turns out to be a wrong secret or corrupted data
     */
    public static DecryptedResponseStream open(InputStream envelope, byte[] secret, byte[] expectedNonceOrNull)
            throws IOException {
        EnvelopeCodec.requireLength(secret, EnvelopeCodec.SECRET_LENGTH, "client secret");
        byte[] iv = envelope.readNBytes(EnvelopeCodec.IV_LENGTH);
        if (iv.length < EnvelopeCodec.IV_LENGTH) {
            throw tooShort(iv.length);
        }
        DecryptedResponseStream stream = new DecryptedResponseStream(envelope, secret, iv);
        byte[] header = new byte[EnvelopeCodec.HEADER_LENGTH];
        int headerLength = 0;
        while (headerLength < header.length && stream.fill()) {
            int n = Math.min(header.length - headerLength, stream.plainEnd - stream.plainStart);
            System.arraycopy(stream.plain, stream.plainStart, header, headerLength, n);
            stream.plainStart += n;
            headerLength += n;
        }
        if (headerLength < header.length) {
            throw tooShort(EnvelopeCodec.IV_LENGTH + stream.ciphertextLength + stream.receivedLength);
        }
        stream.timestampMillis = readLongBigEndian(header);
        stream.nonce = Arrays.copyOfRange(header, 8, EnvelopeCodec.HEADER_LENGTH);
        if (expectedNonceOrNull != null && !MessageDigest.isEqual(expectedNonceOrNull, stream.nonce)) {
            // As with a whole-envelope check, a wrong secret is reported as such rather than as a wrong nonce.
            stream.transferTo(OutputStream.nullOutputStream());
            throw new IllegalArgumentException("Response nonce does not match the request nonce");
        }
        return stream;
    }

    public long timestampMillis() {
        return timestampMillis;
    }

    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return plain[plainStart++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, plainEnd - plainStart);
        System.arraycopy(plain, plainStart, b, off, n);
        plainStart += n;
        return n;
    }

    @Override
    public int available() {
        return plainEnd - plainStart;
    }

    @Override
    public void close() throws IOException {
        envelope.close();
    }

    /** Makes plaintext available; false at the end, once the tag has been verified. */
    private boolean fill() throws IOException {
        while (plainStart == plainEnd) {
            if (ended) {
                return false;
            }
            int n = envelope.read(received, receivedLength, received.length - receivedLength);
            if (n < 0) {
                verifyTag();
                ended = true;
                return false;
            }
            receivedLength += n;
            int ciphertext = receivedLength - EnvelopeCodec.TAG_LENGTH;
            if (ciphertext > 0) {
                decrypt(ciphertext);
                System.arraycopy(received, ciphertext, received, 0, EnvelopeCodec.TAG_LENGTH);
                receivedLength = EnvelopeCodec.TAG_LENGTH;
            }
        }
        return true;
    }

    private void decrypt(int length) throws IOException {
        ciphertextLength += length;
        if (ciphertextLength > MAX_CIPHERTEXT_LENGTH) {
            throw new IOException("Response longer than AES-GCM allows");
        }
        try {
            plainStart = 0;
            plainEnd = ctr.update(received, 0, length, plain, 0);
            gcm.update(plain, 0, plainEnd, discarded, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES decryption failed unexpectedly", e);
        }
    }

    private void verifyTag() throws ResponseAuthenticationException {
        if (ciphertextLength < EnvelopeCodec.HEADER_LENGTH) {
            return; // too short to be an envelope: open() reports it as such, as a length check would
        }
        byte[] computed;
        try {
            int n = gcm.doFinal(discarded, 0);
            computed = Arrays.copyOfRange(discarded, n - EnvelopeCodec.TAG_LENGTH, n);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed unexpectedly", e);
        }
        if (!MessageDigest.isEqual(computed, Arrays.copyOf(received, EnvelopeCodec.TAG_LENGTH))) {
            throw new ResponseAuthenticationException();
        }
    }

    private static IllegalArgumentException tooShort(long length) {
        return new IllegalArgumentException("Response too short to be an encrypted response (" + length + " bytes)");
    }

    private static long readLongBigEndian(byte[] bytes) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }
}
