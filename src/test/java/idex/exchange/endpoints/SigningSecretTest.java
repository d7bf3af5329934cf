package idex.exchange.endpoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class SigningSecretTest {

    private static final String SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Test
    void generatesThirtyTwoRandomBytes() {
        SigningSecret a = SigningSecret.generate();
        SigningSecret b = SigningSecret.generate();
        assertThat(a.key()).hasSize(32);
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void textRoundTrips() {
        SigningSecret secret = SigningSecret.generate();
        assertThat(secret.text()).startsWith("whsec_");
        assertThat(SigningSecret.parse(secret.text())).isEqualTo(secret);
        assertThat(SigningSecret.parse(SPEC_SECRET).text()).isEqualTo(SPEC_SECRET);
    }

    @Test
    void parsesTheSpecExampleAsStandardBase64() {
        assertThat(SigningSecret.parse(SPEC_SECRET).key())
                .isEqualTo(Base64.getDecoder().decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    }

    @Test
    void refusesOtherFormsWithoutEchoingThem() {
        String body = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        for (String bad : new String[] {body, "WHSEC_" + body, " whsec_" + body, "whsec_" + body + "!",
                "whsec_" + body.replace('r', '-'), "whsec_", "whsec_AAAA", "secret_" + body}) {
            assertThatThrownBy(() -> SigningSecret.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .message()
                    .doesNotContain(body)
                    .doesNotContain("AAAA");
        }
        assertThatThrownBy(() -> SigningSecret.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesKeysOutsideTheSpecsRecommendedLength() {
        assertThatThrownBy(() -> new SigningSecret(new byte[23])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SigningSecret(new byte[65])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SigningSecret(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new SigningSecret(new byte[24]).key()).hasSize(24);
        assertThat(new SigningSecret(new byte[64]).key()).hasSize(64);
    }

    @Test
    void copiesTheKeyInAndOut() {
        byte[] raw = new byte[32];
        SigningSecret secret = new SigningSecret(raw);
        raw[0] = 1;
        assertThat(secret.key()[0]).isZero();
        secret.key()[1] = 1;
        assertThat(secret.key()[1]).isZero();
    }

    @Test
    void equalityFollowsTheKeyBytes() {
        SigningSecret a = SigningSecret.parse(SPEC_SECRET);
        SigningSecret b = SigningSecret.parse(SPEC_SECRET);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    }

    @Test
    void toStringRevealsNothing() {
        SigningSecret secret = SigningSecret.parse(SPEC_SECRET);
        assertThat(secret.toString())
                .doesNotContain("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .doesNotContain("MfKQ")
                .doesNotContain("49")  // the first key byte, as a record's default toString would show an array
                .startsWith("SigningSecret[");
        SigningSecret generated = SigningSecret.generate();
        assertThat(generated.toString()).doesNotContain(generated.text().substring(6, 12));
    }
}
