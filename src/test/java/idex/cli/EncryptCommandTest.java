package idex.cli;

import idex.uid2.envelope.DecodedRequest;
import idex.uid2.envelope.EnvelopeCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

class EncryptCommandTest {
    static final byte[] SECRET = new byte[32];
    static final String SECRET_TEXT;

    static {
        for (int i = 0; i < SECRET.length; i++) {
            SECRET[i] = (byte) (i * 7 + 3);
        }
        SECRET_TEXT = Base64.getEncoder().encodeToString(SECRET);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "\r\n", "\n\n"})
    void writesABase64EnvelopeOfTheJsonWithoutTrailingNewlines(String lineEnd) throws Exception {
        String json = "{\"since_timestamp\":\"2022-06-01T13:00:00\",\"x\":\"é\"}";
        long before = System.currentTimeMillis();

        CommandRun run = CommandRun.run(EncryptCommand::new, json + lineEnd, SECRET_TEXT);

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).matches("[A-Za-z0-9+/]+=*"); // nothing else, no trailing newline
        DecodedRequest request = EnvelopeCodec.decodeRequest(run.stdout(), false, SECRET, System.currentTimeMillis());
        assertThat(request.json().toString()).isEqualTo(json);
        assertThat(request.timestampMillis()).isBetween(before, System.currentTimeMillis());
    }

    @Test
    void eachEnvelopeHasItsOwnNonce() throws Exception {
        byte[] first = CommandRun.run(EncryptCommand::new, "{}", SECRET_TEXT).stdout();
        byte[] second = CommandRun.run(EncryptCommand::new, "{}", SECRET_TEXT).stdout();
        long now = System.currentTimeMillis();
        assertThat(EnvelopeCodec.decodeRequest(first, false, SECRET, now).nonce())
                .isNotEqualTo(EnvelopeCodec.decodeRequest(second, false, SECRET, now).nonce());
    }

    @ParameterizedTest
    @ValueSource(strings = {"not-base64!", "AAAA", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj"})
    void invalidSecretIsExitCode2(String secret) {
        CommandRun run = CommandRun.run(EncryptCommand::new, "{}", secret);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("Invalid client secret");
    }

    @Test
    void missingSecretIsAUsageError() {
        CommandRun run = CommandRun.run(EncryptCommand::new, "{}");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.stderr()).contains("SECRET");
        assertThat(new String(run.stdout(), StandardCharsets.UTF_8)).isEmpty();
    }
}
