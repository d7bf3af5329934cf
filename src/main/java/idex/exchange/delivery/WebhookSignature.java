package idex.exchange.delivery;

import idex.exchange.endpoints.SigningSecret;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
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
        try {
            Mac mac = Mac.getInstance(ALGORITHM); // a Mac is not thread-safe: one per signature
            mac.init(new SecretKeySpec(secret.key(), ALGORITHM));
            mac.update((messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return VERSION + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            // Every Java platform must have HmacSHA256, so this is a broken JDK, not bad input.
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
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
        if (messageId == null || messageId.isEmpty()) {
            throw new IllegalArgumentException("a webhook message needs an id to be signed");
        }
        if (secrets == null || secrets.isEmpty()) {
            throw new IllegalArgumentException("a webhook signature header needs at least one secret");
        }
        List<Mac> macs = new ArrayList<>(secrets.size());
        byte[] prefix = (messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8);
        try {
            for (SigningSecret secret : secrets) {
                Mac mac = Mac.getInstance(ALGORITHM);
                mac.init(new SecretKeySpec(secret.key(), ALGORITHM));
                mac.update(prefix);
                macs.add(mac);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
        byte[] chunk = new byte[256 * 1024];
        for (int n; (n = body.read(chunk)) > 0; ) {
            for (Mac mac : macs) {
                mac.update(chunk, 0, n);
            }
        }
        StringJoiner header = new StringJoiner(" ");
        for (Mac mac : macs) {
            header.add(VERSION + Base64.getEncoder().encodeToString(mac.doFinal()));
        }
        return header.toString();
    }
}
