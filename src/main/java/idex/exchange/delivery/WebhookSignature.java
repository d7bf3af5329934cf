package idex.exchange.delivery;

import idex.exchange.endpoints.SigningSecret;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.StringJoiner;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Webhooks (v1) signatures: HMAC-SHA256 over {@code id.timestamp.body}, sent in the
 * {@value #SIGNATURE} header as {@code v1,<base64>}. A receiver verifies with any Standard Webhooks library.
 */
public final class WebhookSignature {

    public static final String ID = "webhook-id";
    public static final String TIMESTAMP = "webhook-timestamp";
    public static final String SIGNATURE = "webhook-signature";

    private static final String VERSION = "v1,";
    private static final String ALGORITHM = "HmacSHA256";

    private WebhookSignature() {
    }

    /** The body is signed byte for byte as sent: re-encoding it would break the receiver's check. */
    public static String sign(String messageId, long timestampSeconds, byte[] body, SigningSecret secret) {
        if (messageId == null || messageId.isEmpty()) {
            throw new IllegalArgumentException("a webhook message needs an id to be signed");
        }
        if (body == null || secret == null) {
            throw new IllegalArgumentException("a webhook signature needs a body and a secret");
        }
        Mac mac = mac(secret); // a Mac is not thread-safe: one per signature
        mac.update((messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
        return VERSION + Base64.getEncoder().encodeToString(mac.doFinal(body));
    }

    /**
     * The {@value #SIGNATURE} header value: one signature per secret, space-separated. During a rotation the endpoint
     * has the old and the new secret, and a receiver that knows either accepts the delivery.
     */
    public static String header(String messageId, long timestampSeconds, byte[] body, List<SigningSecret> secrets) {
        if (secrets == null || secrets.isEmpty()) {
            throw new IllegalArgumentException("a webhook signature header needs at least one secret");
        }
        StringJoiner header = new StringJoiner(" ");
        for (SigningSecret secret : secrets) {
            header.add(sign(messageId, timestampSeconds, body, secret));
        }
        return header.toString();
    }

    /**
     * The {@value #SIGNATURE} header for a body read from `body` to its end (not closed here), such as a pushed
     * segment data file: read once, in chunks, feeding one MAC per secret, so that a body of any size is signed in
     * constant memory.
     */
    public static String header(String messageId, long timestampSeconds, InputStream body, List<SigningSecret> secrets)
            throws IOException {
        Signer signer = new Signer(messageId, timestampSeconds, secrets);
        byte[] chunk = new byte[256 * 1024];
        for (int n; (n = body.read(chunk)) > 0; ) {
            signer.update(chunk, 0, n);
        }
        return signer.header();
    }

    /**
     * A short tag of a set of secrets, to tell whether a signature taken earlier was taken with the secrets that
     * are current now (a rotation in between makes it stale). It is an HMAC of a fixed text under each secret: it
     * reveals nothing of the secrets.
     */
    public static String secretsTag(List<SigningSecret> secrets) {
        StringJoiner tag = new StringJoiner(",");
        for (SigningSecret secret : secrets) {
            Mac mac = mac(secret);
            byte[] digest = mac.doFinal("idex signing secret tag".getBytes(StandardCharsets.UTF_8));
            tag.add(Base64.getEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 9)));
        }
        return tag.toString();
    }

    private static Mac mac(SigningSecret secret) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret.key(), ALGORITHM));
            return mac;
        } catch (GeneralSecurityException e) {
            // Every Java platform must have HmacSHA256, so this is a broken JDK, not bad input.
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * The {@value #SIGNATURE} header of a body fed in pieces as it is produced (a segment data file signed while the
     * export writes it, so that delivering it does not read it twice): one MAC per secret. Not thread-safe.
     */
    public static final class Signer {

        private final List<Mac> macs;

        public Signer(String messageId, long timestampSeconds, List<SigningSecret> secrets) {
            if (messageId == null || messageId.isEmpty()) {
                throw new IllegalArgumentException("a webhook message needs an id to be signed");
            }
            if (secrets == null || secrets.isEmpty()) {
                throw new IllegalArgumentException("a webhook signature header needs at least one secret");
            }
            byte[] prefix = (messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8);
            macs = new ArrayList<>(secrets.size());
            for (SigningSecret secret : secrets) {
                Mac mac = mac(secret);
                mac.update(prefix);
                macs.add(mac);
            }
        }

        public void update(byte[] bytes, int offset, int length) {
            for (Mac mac : macs) {
                mac.update(bytes, offset, length);
            }
        }

        /** The header value, once the whole body has been fed. */
        public String header() {
            StringJoiner header = new StringJoiner(" ");
            for (Mac mac : macs) {
                header.add(VERSION + Base64.getEncoder().encodeToString(mac.doFinal()));
            }
            return header.toString();
        }
    }
}
