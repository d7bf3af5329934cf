package idex.uid2.envelope;

import javax.crypto.Cipher;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * Encrypts a response envelope piece by piece, for answers too large to hold in memory at once (up to ~100 MB).
 * The concatenation of every {@link #update} output and the {@link #finish} output equals
 * {@link EnvelopeCodec#encryptResponse} (base64-encoded when {@code base64Output}) with the same IV.
 * One instance per response; not thread-safe.
 */
public final class ResponseEncryptor {
    private static final Base64.Encoder BASE64 = Base64.getEncoder();

    private final Cipher cipher;
    private final boolean base64Output;
    /**
     * Ciphertext-stream bytes not yet emitted sit at {@code scratch[0, pendingLength)}: the IV and encrypted header
     * before the first call, later up to 2 bytes that wait for a whole 3-byte base64 group.
     */
    private byte[] scratch;
    private int pendingLength;
    private boolean finished;

    public ResponseEncryptor(byte[] secret, byte[] nonce, long nowMillis, boolean base64Output) {
        this(secret, nonce, nowMillis, base64Output, EnvelopeCodec.randomBytes(EnvelopeCodec.IV_LENGTH));
    }

    /** With a chosen IV, so that tests can compare with {@link EnvelopeCodec#encryptResponse} byte for byte. */
    ResponseEncryptor(byte[] secret, byte[] nonce, long nowMillis, boolean base64Output, byte[] iv) {
        EnvelopeCodec.requireLength(secret, EnvelopeCodec.SECRET_LENGTH, "client secret");
        EnvelopeCodec.requireLength(nonce, EnvelopeCodec.NONCE_LENGTH, "nonce");
        EnvelopeCodec.requireLength(iv, EnvelopeCodec.IV_LENGTH, "IV");
        this.base64Output = base64Output;
        this.scratch = new byte[8192];
        System.arraycopy(iv, 0, scratch, 0, iv.length);
        try {
            this.cipher = EnvelopeCodec.gcm(Cipher.ENCRYPT_MODE, secret, iv, 0);
            this.pendingLength = iv.length + cipher.update(EnvelopeCodec.header(nowMillis, nonce), 0,
                    EnvelopeCodec.HEADER_LENGTH, scratch, iv.length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed unexpectedly", e);
        }
    }

    /** Encrypts the next JSON bytes; returns the output bytes that are ready (possibly none). */
    public byte[] update(byte[] plain, int off, int len) {
        Objects.checkFromIndexSize(off, len, plain.length);
        ensureOpen();
        ensureScratch(pendingLength + cipher.getOutputSize(len));
        try {
            int total = pendingLength + cipher.update(plain, off, len, scratch, pendingLength);
            return emit(total, false);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed unexpectedly", e);
        }
    }

    /** Returns the last output bytes, including the authentication tag (and base64 padding). */
    public byte[] finish() {
        ensureOpen();
        finished = true;
        ensureScratch(pendingLength + cipher.getOutputSize(0));
        try {
            int total = pendingLength + cipher.doFinal(scratch, pendingLength);
            return emit(total, true);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed unexpectedly", e);
        }
    }

    private byte[] emit(int total, boolean last) {
        if (!base64Output) {
            pendingLength = 0;
            return Arrays.copyOf(scratch, total);
        }
        // Only whole 3-byte groups, so that the pieces concatenate to the base64 of the whole ciphertext.
        int whole = last ? total : total - total % 3;
        byte[] text = BASE64.encode(ByteBuffer.wrap(scratch, 0, whole)).array();
        pendingLength = total - whole;
        System.arraycopy(scratch, whole, scratch, 0, pendingLength);
        return text;
    }

    private void ensureScratch(int size) {
        if (scratch.length < size) {
            scratch = Arrays.copyOf(scratch, Math.max(size, scratch.length * 2));
        }
    }

    private void ensureOpen() {
        if (finished) {
            throw new IllegalStateException("finish() was already called");
        }
    }
}
