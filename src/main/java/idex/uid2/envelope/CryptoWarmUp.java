package idex.uid2.envelope;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Runs the envelope's AES-GCM and base64 paths a few thousand times at start-up, off the request path. HotSpot
 * uses the CPU's AES and carry-less-multiply instructions only from C2-compiled callers; until then GCM runs in
 * plain Java at under 100 MB/s, so the first large answers after a start would take seconds instead of
 * milliseconds. A few hundred milliseconds of one background thread buys the compiled paths before load arrives.
 */
public final class CryptoWarmUp {

    private CryptoWarmUp() {
    }

    public static Thread startInBackground() {
        Thread t = new Thread(CryptoWarmUp::run, "idex-crypto-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        return t;
    }

    static void run() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        byte[] nonce = new byte[8];
        byte[] piece = new byte[4096];
        for (int round = 0; round < 40; round++) {
            ResponseEncryptor streaming = new ResponseEncryptor(secret, nonce, 0, round % 2 == 0);
            for (int i = 0; i < 400; i++) {
                streaming.update(piece, 0, piece.length);
            }
            streaming.finish();
            byte[] sealed = EnvelopeCodec.encryptResponse(piece, nonce, secret, 0);
            Base64.getDecoder().decode(Base64.getEncoder().encode(sealed));
            byte[] request = EnvelopeCodec.encryptRequest("{}".getBytes(), secret, System.currentTimeMillis(), nonce);
            try {
                EnvelopeCodec.decodeRequest(request, true, secret, System.currentTimeMillis());
            } catch (EnvelopeException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
