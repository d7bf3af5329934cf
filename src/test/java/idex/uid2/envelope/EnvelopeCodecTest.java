package idex.uid2.envelope;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;

import static idex.uid2.envelope.EnvelopeCodec.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopeCodecTest {
    private static final long NOW = 1_717_250_400_123L;
    private static final byte[] SECRET = bytes(32, 1);
    private static final byte[] OTHER_SECRET = bytes(32, 2);
    private static final byte[] NONCE = bytes(8, 3);
    private static final String JSON = "{\"since_timestamp\":\"2022-06-01T13:00:00\"}";

    // ------------------------------------------------------------------ happy paths

    @Test
    void decodesBase64TextEnvelope() throws Exception {
        DecodedRequest request = decodeText(textEnvelope(JSON, NOW));

        assertThat(request.json().get("since_timestamp").asText()).isEqualTo("2022-06-01T13:00:00");
        assertThat(request.nonce()).isEqualTo(NONCE);
        assertThat(request.timestampMillis()).isEqualTo(NOW);
        assertThat(request.binary()).isFalse();
    }

    @Test
    void decodesRawEnvelopeSentAsOctetStreamAndLeavesTheBodyIntact() throws Exception {
        byte[] raw = encryptRequest(utf8(JSON), SECRET, NOW, NONCE);
        byte[] copy = raw.clone();

        DecodedRequest request = decodeRequest(raw, true, SECRET, NOW);

        assertThat(request.binary()).isTrue();
        assertThat(request.json().get("since_timestamp").asText()).isEqualTo("2022-06-01T13:00:00");
        assertThat(request.nonce()).isEqualTo(NONCE);
        assertThat(raw).isEqualTo(copy);
    }

    @Test
    void base64TextSentAsOctetStreamIsReadAsTextAndAnsweredAsText() throws Exception {
        DecodedRequest request = decodeRequest(textEnvelope(JSON, NOW), true, SECRET, NOW);

        assertThat(request.binary()).isFalse();
        assertThat(request.json().get("since_timestamp").asText()).isEqualTo("2022-06-01T13:00:00");
    }

    @Test
    void base64WithoutPaddingIsAccepted() throws Exception {
        String json = "{\"a\":1}"; // 45 + 7 = 52 envelope bytes: 52 % 3 = 1, so "==" padding
        String padded = new String(textEnvelope(json, NOW), StandardCharsets.US_ASCII);
        assertThat(padded).endsWith("==");

        DecodedRequest request = decodeText(utf8(padded.replace("=", "")));

        assertThat(request.json().get("a").asInt()).isEqualTo(1);
    }

    @Test
    void jsonWithSurroundingWhitespaceIsAnObject() throws Exception {
        assertThat(decodeText(textEnvelope(" \n{\"a\":[1,2]}\t ", NOW)).json().get("a").size()).isEqualTo(2);
    }

    @Test
    void nonAsciiJsonRoundTrips() throws Exception {
        assertThat(decodeText(textEnvelope("{\"email\":[\"jöhn@exämple.com\"]}", NOW)).json().get("email").get(0).asText())
                .isEqualTo("jöhn@exämple.com");
    }

    /** Vector from the reference operator's V2RequestUtilTest: an envelope made by another implementation. */
    @Test
    void decodesReferenceOperatorVector() throws Exception {
        byte[] secret = Base64.getDecoder().decode("YGdzZw9oM2RzBgB8THMyAEe408lvdfsTsGteaLAGayY=");
        String envelope = "ATDX9gBKxgQaLwUi9ZDbSqo1b66u55jEN322XSR+aCvOy/c3ZiaVOh8VG22pDUSSNaUqfUwwxxYT0pS9zjW7oVPCeluHU5GC"
                + "c+6A+LUTIQ8vOR+1CN7ds/61Bp82RzKf5wPABMNtqr1XkoN6d5FU/R0vpxf2hfo1cYYmW0ziCy15pPh17GN2vNTn6YK6g+MAi/dDC7mG"
                + "+Mxnh9ZaEz+3IetgDPWfp5zHh/T3LWhDAA+2drlDn8KwcQE/TYKh5raR4BDHmhgBUCU6+nymoWruNYxzcII63xMTLMTGzpinNnTL3iBP"
                + "II9lKRJJ2ZrGjjgMMXi066iaDDpBHH3xY+bAwriU+6GEsE8bveRMwRqT83gmkYp6mn+75Yrpdw==";
        long now = Instant.parse("2024-03-20T04:02:46.130Z").toEpochMilli();

        ObjectNode json = decodeRequest(utf8(envelope), false, secret, now).json();

        assertThat(json.get("email_hash").asText()).isEqualTo("LdhtUlMQ58ZZy5YUqGPRQw5xUMS5dXG5ocJHYJHbAKI=");
        assertThat(json.get("token").asText()).startsWith("AdvertisingTokenmZ4dZ");
    }

    // ------------------------------------------------------------------ each error, in the order of spec §1

    @Test
    void emptyOrNullBodyIsMissing() {
        assertRejected(new byte[0], false, BODY_MISSING);
        assertRejected(new byte[0], true, BODY_MISSING);
        assertRejected(null, false, BODY_MISSING);
    }

    @ParameterizedTest
    @ValueSource(strings = {"test string", "AQID\n", " AQID", "AQ-_", "AQ=", "A", "AQ==AQ==", "Zm9v!"})
    void strictBase64(String body) {
        assertRejected(utf8(body), false, NOT_BASE64);
    }

    @Test
    void envelopeWithLineBreaksOrUrlSafeAlphabetIsNotBase64() {
        String text = new String(textEnvelope(JSON, NOW), StandardCharsets.US_ASCII);
        assertRejected(utf8(text.substring(0, 40) + "\r\n" + text.substring(40)), false, NOT_BASE64);
        String urlSafe = Base64.getUrlEncoder().encodeToString(bytes(60, 9)); // contains '-' or '_'
        assertThat(urlSafe).containsAnyOf("-", "_");
        assertRejected(utf8(urlSafe), false, NOT_BASE64);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"since_timestamp\":\"2022-06-01T13:00:00\"}", " \r\n\t{}", "[1,2]", "{"})
    void unencryptedJsonIsNamedAsSuch(String json) {
        assertRejected(utf8(json), false, UNENCRYPTED_JSON);                // not base64
        assertRejected(utf8(json), true, UNENCRYPTED_JSON);                 // raw octet-stream, any length
        assertRejected(Base64.getEncoder().encode(utf8(json)), false, UNENCRYPTED_JSON); // base64 of plain JSON
        assertRejected(Base64.getEncoder().encode(utf8(json)), true, UNENCRYPTED_JSON);
    }

    @Test
    void longBase64OfUnencryptedJsonIsNamedAsSuchRatherThanAVersionMismatch() {
        byte[] json = utf8("{\"email_hash\": [\"tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=\"]}");
        assertThat(json.length).isGreaterThanOrEqualTo(MIN_REQUEST_LENGTH);
        assertRejected(Base64.getEncoder().encode(json), false, UNENCRYPTED_JSON);
    }

    @Test
    void tooShort() {
        byte[] shortEnvelope = Arrays.copyOf(encryptRequest(new byte[0], SECRET, NOW, NONCE), MIN_REQUEST_LENGTH - 1);
        assertRejected(Base64.getEncoder().encode(shortEnvelope), false, TOO_SHORT);
        assertRejected(shortEnvelope, true, TOO_SHORT);
        assertRejected(utf8("dGVzdA=="), false, TOO_SHORT);
        assertRejected(utf8("dGVzdA"), true, TOO_SHORT); // base64 via the octet-stream fallback
    }

    @Test
    void tooShortTakesPrecedenceOverVersion() {
        assertRejected(Base64.getEncoder().encode(filled(MIN_REQUEST_LENGTH - 1, 2)), false, TOO_SHORT);
    }

    @Test
    void emptyJsonEnvelopeHasExactlyTheMinimumLength() {
        assertThat(encryptRequest(new byte[0], SECRET, NOW, NONCE)).hasSize(MIN_REQUEST_LENGTH);
        assertRejected(Base64.getEncoder().encode(encryptRequest(new byte[0], SECRET, NOW, NONCE)), false, INVALID_JSON);
    }

    @Test
    void versionMismatchReportsTheReceivedByteUnsigned() {
        assertThat(versionMismatch(2)).isEqualTo("Invalid body: Invalid request envelope format version: received 2, must be 1.");
        assertRejected(Base64.getEncoder().encode(filled(64, 2)), false, versionMismatch(2));
        assertRejected(Base64.getEncoder().encode(filled(64, 0xFF)), false, versionMismatch(255));
        assertRejected(filled(64, 2), true, versionMismatch(2));
        // Base64 text of a bad envelope under octet-stream: about the decoded bytes (2), not the text's 'A' (65).
        assertRejected(Base64.getEncoder().encode(filled(64, 2)), true, versionMismatch(2));
    }

    @Test
    void versionIsCheckedBeforeDecryption() {
        byte[] envelope = encryptRequest(utf8(JSON), SECRET, NOW, NONCE);
        envelope[0] = 2;
        assertRejected(envelope, true, versionMismatch(2));
    }

    @Test
    void wrongSecretOrTamperedEnvelopeFailsAuthentication() {
        byte[] envelope = encryptRequest(utf8(JSON), OTHER_SECRET, NOW, NONCE);
        assertRejected(Base64.getEncoder().encode(envelope), false, WRONG_SECRET);
        assertRejected(envelope, true, WRONG_SECRET);

        for (int i : new int[]{1, 13, 30, envelope.length - 1}) { // IV, header, JSON and tag bytes
            byte[] tampered = encryptRequest(utf8(JSON), SECRET, NOW, NONCE);
            tampered[i] ^= 0x40;
            assertRejected(tampered, true, WRONG_SECRET);
        }
        assertRejected(filled(MIN_REQUEST_LENGTH, 1), true, WRONG_SECRET);
    }

    @Test
    void authenticationIsCheckedBeforeTimestampAndTimestampBeforeJson() {
        long old = NOW - 3_600_000;
        assertRejected(Base64.getEncoder().encode(encryptRequest(utf8("not json"), OTHER_SECRET, old, NONCE)), false,
                WRONG_SECRET);
        assertRejected(Base64.getEncoder().encode(encryptRequest(utf8("not json"), SECRET, old, NONCE)), false,
                BAD_TIMESTAMP);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, -1, 59_000, -59_000, 60_000, -60_000, 119_999, -119_999})
    void timestampWithinTwoWholeMinutesIsAccepted(long clientAheadMillis) throws Exception {
        assertThat(decodeText(textEnvelope(JSON, NOW + clientAheadMillis)).timestampMillis())
                .isEqualTo(NOW + clientAheadMillis);
    }

    @ParameterizedTest
    @ValueSource(longs = {120_000, -120_000, 120_001, -120_001, 180_000, -180_000, 86_400_000, -86_400_000})
    void timestampTwoMinutesOrMoreAwayIsRejectedEitherWay(long clientAheadMillis) {
        assertRejected(textEnvelope(JSON, NOW + clientAheadMillis), false, BAD_TIMESTAMP);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MIN_VALUE, Long.MAX_VALUE, -1})
    void absurdTimestampsAreRejected(long timestamp) {
        assertRejected(textEnvelope(JSON, timestamp), false, BAD_TIMESTAMP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "[1,2]", "[]", "\"text\"", "42", "null", "true", "not json", "{\"a\":",
            "{\"a\":1} trailing", "{\"a\":1}{}", "{'a':1}"})
    void payloadMustBeOneJsonObject(String payload) {
        assertRejected(textEnvelope(payload, NOW), false, INVALID_JSON);
    }

    @Test
    void malformedUtf8IsNotValidJson() {
        byte[] payload = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, '"', '}'};
        assertRejected(Base64.getEncoder().encode(encryptRequest(payload, SECRET, NOW, NONCE)), false, INVALID_JSON);
    }

    @Test
    void secretMustBe32Bytes() {
        assertThatThrownBy(() -> decodeRequest(textEnvelope(JSON, NOW), false, new byte[16], NOW))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encryptResponse(utf8(JSON), NONCE, new byte[31], NOW))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ responses

    @Test
    void responseLayoutIsIvCiphertextTagOverTimestampNonceJson() throws Exception {
        byte[] json = utf8("{\"body\":[],\"status\":\"success\"}");
        byte[] raw = encryptResponse(json, NONCE, SECRET, NOW);

        assertThat(raw).hasSize(12 + 16 + json.length + 16);
        assertThat(encryptedResponseLength(json.length, false)).isEqualTo(raw.length);
        assertThat(encryptedResponseLength(json.length, true)).isEqualTo(Base64.getEncoder().encode(raw).length);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding"); // independent decryption, no codec code
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(SECRET, "AES"), new GCMParameterSpec(128, raw, 0, 12));
        ByteBuffer plain = ByteBuffer.wrap(cipher.doFinal(raw, 12, raw.length - 12));
        assertThat(plain.getLong()).isEqualTo(NOW);
        byte[] nonce = new byte[8];
        plain.get(nonce);
        assertThat(nonce).isEqualTo(NONCE);
        assertThat(Arrays.copyOfRange(plain.array(), 16, plain.capacity())).isEqualTo(json);
    }

    @Test
    void responseRoundTripsThroughDecryptResponse() {
        byte[] json = utf8("{\"body\":[{\"bucket_id\":\"bKaoveQoPR\"}],\"status\":\"success\"}");
        byte[] raw = encryptResponse(json, NONCE, SECRET, NOW);

        assertThat(decryptResponse(raw, SECRET, NONCE)).isEqualTo(json);
        assertThat(decryptResponse(raw, SECRET, null)).isEqualTo(json);
        assertThat(decryptResponse(encryptResponse(new byte[0], NONCE, SECRET, NOW), SECRET, NONCE)).isEmpty();
    }

    @Test
    void responsesUseAFreshIvEachTime() {
        byte[] a = encryptResponse(utf8(JSON), NONCE, SECRET, NOW);
        byte[] b = encryptResponse(utf8(JSON), NONCE, SECRET, NOW);
        assertThat(Arrays.copyOf(a, 12)).isNotEqualTo(Arrays.copyOf(b, 12));
    }

    @Test
    void decryptResponseRejectsWrongNonceWrongSecretAndGarbage() {
        byte[] raw = encryptResponse(utf8(JSON), NONCE, SECRET, NOW);

        assertThatThrownBy(() -> decryptResponse(raw, SECRET, bytes(8, 99)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nonce");
        assertThatThrownBy(() -> decryptResponse(raw, OTHER_SECRET, NONCE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("authentication failed");
        assertThatThrownBy(() -> decryptResponse(new byte[43], SECRET, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too short");
    }

    // ------------------------------------------------------------------ interoperability with the official SDK

    @Test
    void requestIsByteForByteWhatTheOfficialJavaSdkBuilds() throws Exception {
        byte[] iv = bytes(12, 7);
        Object helper = sdkHelper(SECRET);
        Method create = helper.getClass().getMethod("createEnvelopeV2", byte[].class, Instant.class, byte[].class,
                byte[].class);
        Object envelope = create.invoke(helper, NONCE, Instant.ofEpochMilli(NOW), iv, utf8(JSON));
        byte[] sdkBytes = (byte[]) envelope.getClass().getMethod("getBinaryEnvelope").invoke(envelope);

        assertThat(EnvelopeCodec.encryptRequest(utf8(JSON), SECRET, NOW, NONCE, iv)).isEqualTo(sdkBytes);
        assertThat(decodeRequest(sdkBytes, true, SECRET, NOW).json().get("since_timestamp").asText())
                .isEqualTo("2022-06-01T13:00:00");
    }

    @Test
    void officialJavaSdkDecryptsOurResponseInBothForms() throws Exception {
        String json = "{\"body\":[],\"status\":\"success\"}";
        byte[] raw = encryptResponse(utf8(json), NONCE, SECRET, System.currentTimeMillis());
        Object helper = sdkHelper(SECRET);

        Object fromText = helper.getClass().getMethod("decrypt", String.class, byte[].class)
                .invoke(helper, Base64.getEncoder().encodeToString(raw), NONCE);
        Object fromBytes = helper.getClass().getMethod("decrypt", byte[].class, byte[].class)
                .invoke(helper, raw, NONCE);

        assertThat(fromText).isEqualTo(json);
        assertThat(fromBytes).isEqualTo(json);
    }

    // ------------------------------------------------------------------ helpers

    /** com.uid2.client.Uid2Helper: public methods, package-private constructor. */
    private static Object sdkHelper(byte[] secret) throws Exception {
        Constructor<?> constructor = Class.forName("com.uid2.client.Uid2Helper").getDeclaredConstructor(String.class);
        constructor.setAccessible(true);
        return constructor.newInstance(Base64.getEncoder().encodeToString(secret));
    }

    private static DecodedRequest decodeText(byte[] body) throws EnvelopeException {
        return decodeRequest(body, false, SECRET, NOW);
    }

    private static byte[] textEnvelope(String json, long timestampMillis) {
        return Base64.getEncoder().encode(encryptRequest(utf8(json), SECRET, timestampMillis, NONCE));
    }

    private static void assertRejected(byte[] body, boolean octetStream, String message) {
        assertThatThrownBy(() -> decodeRequest(body, octetStream, SECRET, NOW))
                .isInstanceOf(EnvelopeException.class)
                .hasMessage(message);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
