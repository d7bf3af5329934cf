package idex.exchange.delivery;

import idex.exchange.endpoints.SigningSecret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    // The example of the Standard Webhooks spec and its reference libraries.
    private static final String SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private static final long SPEC_TIMESTAMP = 1614265330L;
    private static final String SPEC_PAYLOAD = "{\"test\": 2432232314}";
    private static final String SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    @Test
    void headerNamesAreTheStandardOnes() {
        assertThat(WebhookSignature.ID).isEqualTo("webhook-id");
        assertThat(WebhookSignature.TIMESTAMP).isEqualTo("webhook-timestamp");
        assertThat(WebhookSignature.SIGNATURE).isEqualTo("webhook-signature");
    }

    @Test
    void matchesTheSpecTestVector() {
        assertThat(WebhookSignature.sign(SPEC_ID, SPEC_TIMESTAMP, utf8(SPEC_PAYLOAD), SigningSecret.parse(SPEC_SECRET)))
                .isEqualTo(SPEC_SIGNATURE);
    }

    @Test
    void theOfficialLibrarySignsTheSpecVectorAlikeToo() throws Exception {
        // Guards the test vector itself: if it were mistyped above, both sides would disagree here.
        assertThat(new Webhook(SPEC_SECRET).sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)).isEqualTo(SPEC_SIGNATURE);
    }

    @Test
    void theOfficialLibraryVerifiesOurHeaders() throws Exception {
        SigningSecret secret = SigningSecret.generate();
        long now = System.currentTimeMillis() / 1000; // the library refuses timestamps more than 5 minutes off
        String body = "{\"event\":\"a\",\"text\":\"héllo ✓\"}";
        String header = WebhookSignature.header("msg_1", now, utf8(body), List.of(secret));

        new Webhook(secret.text()).verify(body, headers("msg_1", now, header));
    }

    @Test
    void theOfficialLibraryRefusesATamperedDelivery() throws Exception {
        SigningSecret secret = SigningSecret.generate();
        long now = System.currentTimeMillis() / 1000;
        String header = WebhookSignature.header("msg_1", now, utf8("{\"a\":1}"), List.of(secret));
        Webhook receiver = new Webhook(secret.text());

        assertThatThrownBy(() -> receiver.verify("{\"a\":2}", headers("msg_1", now, header)))
                .isInstanceOf(WebhookVerificationException.class);
        assertThatThrownBy(() -> receiver.verify("{\"a\":1}", headers("msg_2", now, header)))
                .isInstanceOf(WebhookVerificationException.class);
        assertThatThrownBy(() -> receiver.verify("{\"a\":1}", headers("msg_1", now + 1, header)))
                .isInstanceOf(WebhookVerificationException.class);
        assertThatThrownBy(() -> new Webhook(SigningSecret.generate().text())
                .verify("{\"a\":1}", headers("msg_1", now, header)))
                .isInstanceOf(WebhookVerificationException.class);
    }

    @Test
    void aRotatedPairSendsBothSignaturesAndEitherSecretVerifies() throws Exception {
        SigningSecret old = SigningSecret.generate();
        SigningSecret fresh = SigningSecret.generate();
        long now = System.currentTimeMillis() / 1000;
        byte[] body = utf8("{\"rotation\":true}");

        String header = WebhookSignature.header("msg_rot", now, body, List.of(old, fresh));

        assertThat(header.split(" ")).containsExactly(
                WebhookSignature.sign("msg_rot", now, body, old),
                WebhookSignature.sign("msg_rot", now, body, fresh));
        assertThat(independentlyVerified(header, "msg_rot", now, body, old)).isTrue();
        assertThat(independentlyVerified(header, "msg_rot", now, body, fresh)).isTrue();
        assertThat(independentlyVerified(header, "msg_rot", now, body, SigningSecret.generate())).isFalse();
        new Webhook(old.text()).verify("{\"rotation\":true}", headers("msg_rot", now, header));
        new Webhook(fresh.text()).verify("{\"rotation\":true}", headers("msg_rot", now, header));
    }

    @Test
    void signsTheBodyBytesAsTheyAre() {
        // Not valid UTF-8: a String round trip would change these bytes and so the signature.
        byte[] body = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41};
        SigningSecret secret = SigningSecret.generate();
        String signature = WebhookSignature.sign("msg_b", 1L, body, secret);
        assertThat(independentlyVerified(signature, "msg_b", 1L, body, secret)).isTrue();
        assertThat(signature).isNotEqualTo(WebhookSignature.sign("msg_b", 1L, new byte[] {0x41}, secret));
    }

    @Test
    void refusesMissingParts() {
        SigningSecret secret = SigningSecret.generate();
        assertThatThrownBy(() -> WebhookSignature.header("m", 1L, new byte[0], List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WebhookSignature.sign("", 1L, new byte[0], secret))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WebhookSignature.sign("m", 1L, null, secret))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A receiver written from the spec alone: any v1 entry of the header that matches, compared in constant time. */
    private static boolean independentlyVerified(String header, String id, long timestamp, byte[] body,
            SigningSecret secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.key(), "HmacSHA256"));
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            byte[] expected = mac.doFinal(body);
            for (String entry : header.split(" ")) {
                String[] parts = entry.split(",", 2);
                if (parts.length == 2 && parts[0].equals("v1")
                        && MessageDigest.isEqual(Base64.getDecoder().decode(parts[1]), expected)) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Map<String, List<String>> headers(String id, long timestamp, String signature) {
        return Map.of(WebhookSignature.ID, List.of(id),
                WebhookSignature.TIMESTAMP, List.of(Long.toString(timestamp)),
                WebhookSignature.SIGNATURE, List.of(signature));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
