package idex.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import idex.uid2.envelope.EnvelopeCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static idex.cli.EncryptCommandTest.SECRET;
import static idex.cli.EncryptCommandTest.SECRET_TEXT;
import static org.assertj.core.api.Assertions.assertThat;

class DecryptCommandTest {
    private static final String JSON =
            "{\"body\":[{\"bucket_id\":\"bKaoveQoPR\",\"last_updated\":\"2022-06-05T22:52:03.109\"}],\"status\":\"success\"}";

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "\r\n"})
    void printsTheDecryptedJsonWithJacksonsDefaultPrettyPrinter(String lineEnd) throws Exception {
        CommandRun run = CommandRun.run(DecryptCommand::new, encryptedAnswer(JSON) + lineEnd, SECRET_TEXT);

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(jacksonPretty(JSON) + "\n");
        assertThat(run.out()).contains("\n  \"body\" : [ {");
    }

    @Test
    void keepsNumberValuesAndNonAsciiExactly() {
        String json = "{\"a\":1.10,\"b\":12345678901234567890123,\"c\":\"jöhn\",\"d\":1e400}";
        CommandRun run = CommandRun.run(DecryptCommand::new, encryptedAnswer(json), SECRET_TEXT);

        assertThat(run.exitCode()).isZero();
        // 1e400 overflows a double; the exact copy keeps its value (as BigDecimal notation) instead of Infinity.
        assertThat(run.out()).contains("1.10", "12345678901234567890123", "jöhn", "1E+400");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"status\":\"unauthorized\"}",
            "{\"message\":\"Invalid timestamp: Request too old or client time drift.\",\"status\":\"client_error\"}\n",
            "Unauthorized", "Not Found"})
    void unencryptedAnswerIsPrintedUnchangedWithExitCode1(String answer) {
        CommandRun run = CommandRun.run(DecryptCommand::new, answer, SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEqualTo(answer);
    }

    @Test
    void answerForAnotherSecretIsExitCode1WithAReason() {
        byte[] otherSecret = new byte[32];
        String answer = Base64.getEncoder().encodeToString(
                EnvelopeCodec.encryptResponse(JSON.getBytes(StandardCharsets.UTF_8), new byte[8], otherSecret, 0));

        CommandRun run = CommandRun.run(DecryptCommand::new, answer, SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("authentication failed");
    }

    @Test
    void emptyInputIsExitCode1() {
        CommandRun run = CommandRun.run(DecryptCommand::new, "", SECRET_TEXT);
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("No input");
    }

    @Test
    void invalidSecretIsExitCode2() {
        CommandRun run = CommandRun.run(DecryptCommand::new, encryptedAnswer(JSON), "c2hvcnQ=");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.stderr()).contains("Invalid client secret");
    }

    @Test
    void pipelineEncryptServerDecrypt() throws Exception {
        byte[] request = CommandRun.run(EncryptCommand::new, "{\"since_timestamp\":\"2022-06-01T13:00:00\"}\n",
                SECRET_TEXT).stdout();
        var decoded = EnvelopeCodec.decodeRequest(request, false, SECRET, System.currentTimeMillis());
        byte[] answer = Base64.getEncoder().encode(EnvelopeCodec.encryptResponse(
                JSON.getBytes(StandardCharsets.UTF_8), decoded.nonce(), SECRET, System.currentTimeMillis()));

        CommandRun run = CommandRun.run(DecryptCommand::new, answer, SECRET_TEXT);

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(jacksonPretty(JSON) + "\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "\r\n"})
    void anAnswerTooLargeToHoldIsPrintedAsASmallOneIs(String lineEnd) throws Exception {
        String json = bucketList(40_000);
        assertThat(json.length()).isGreaterThan(DecryptedAnswerPrinter.HELD_ANSWER_BYTES);

        CommandRun run = CommandRun.run(DecryptCommand::new, encryptedAnswer(json) + lineEnd, SECRET_TEXT);

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.out()).isEqualTo(jacksonPretty(json) + "\n");
    }

    @Test
    void aLargeAnswerWithAChangedTagIsPrintedThenRefused() throws Exception {
        String json = bucketList(40_000);
        byte[] raw = EnvelopeCodec.encryptResponse(json.getBytes(StandardCharsets.UTF_8), new byte[8], SECRET, 0);
        raw[raw.length - 1] ^= 0x01;

        CommandRun run = CommandRun.run(DecryptCommand::new, Base64.getEncoder().encode(raw), SECRET_TEXT);

        // Printed as it came, since it is too large to hold until the tag: the exit code and message tell.
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEqualTo(jacksonPretty(json) + "\n");
        assertThat(run.stderr()).contains("authentication failed", "the output printed above is not to be trusted");
    }

    @Test
    void aSmallAnswerWithAChangedTagPrintsNothing() {
        byte[] raw = EnvelopeCodec.encryptResponse(JSON.getBytes(StandardCharsets.UTF_8), new byte[8], SECRET, 0);
        raw[raw.length - 1] ^= 0x01;

        CommandRun run = CommandRun.run(DecryptCommand::new, Base64.getEncoder().encode(raw), SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("authentication failed").doesNotContain("not to be trusted");
    }

    @Test
    void aLargeUnencryptedInputIsPrintedUnchanged() {
        String json = bucketList(40_000);

        CommandRun run = CommandRun.run(DecryptCommand::new, json, SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEqualTo(json);
    }

    @Test
    void aLineBreakInsideALargeAnswerIsNotBase64() {
        String answer = encryptedAnswer(bucketList(40_000));
        String broken = answer.substring(0, answer.length() / 2) + "\n" + answer.substring(answer.length() / 2);

        CommandRun run = CommandRun.run(DecryptCommand::new, broken, SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("Cannot read the response: Illegal base64 character 0xa");
    }

    /** {"body":[{"bucket_id":…,"last_updated":…},…],"status":"success"}, ~50 bytes a bucket. */
    static String bucketList(int buckets) {
        StringBuilder json = new StringBuilder("{\"body\":[");
        for (int i = 0; i < buckets; i++) {
            json.append(i == 0 ? "" : ",").append("{\"bucket_id\":\"b").append(Integer.toString(i, 36))
                    .append("\",\"last_updated\":\"2022-06-05T22:52:03.109\"}");
        }
        return json.append("],\"status\":\"success\"}").toString();
    }

    static String encryptedAnswer(String json) {
        return Base64.getEncoder().encodeToString(EnvelopeCodec.encryptResponse(json.getBytes(StandardCharsets.UTF_8),
                new byte[8], SECRET, System.currentTimeMillis()));
    }

    static String jacksonPretty(String json) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(mapper.readTree(json));
    }
}
