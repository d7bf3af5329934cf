package idex.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import idex.uid2.envelope.DecodedRequest;
import idex.uid2.envelope.EnvelopeCodec;
import idex.uid2.envelope.EnvelopeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static idex.cli.DecryptCommandTest.jacksonPretty;
import static idex.cli.EncryptCommandTest.SECRET;
import static idex.cli.EncryptCommandTest.SECRET_TEXT;
import static org.assertj.core.api.Assertions.assertThat;

/** Against a stub operator that uses EnvelopeCodec the way the real server does (spec §1, §2). */
class RequestCommandTest {
    private static final String KEY = "UID2-C-L-999-abcdef.ghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ=";
    private static final String REQUEST = "{\"since_timestamp\":\"2022-06-01T13:00:00\"}";
    /** More than the printer holds: printed as it is decrypted. */
    private static final String LARGE_BODY = DecryptCommandTest.bucketList(40_000);

    private HttpServer server;
    private String baseUrl;
    private volatile String receivedContentType;

    @BeforeEach
    void startStub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v2/echo", exchange -> answer(exchange, false, null));
        server.createContext("/v2/wrong-nonce", exchange -> answer(exchange, true, null));
        server.createContext("/v2/large", exchange -> answer(exchange, false, LARGE_BODY));
        server.createContext("/v2/large-wrong-nonce", exchange -> answer(exchange, true, LARGE_BODY));
        server.createContext("/v2/garbage", exchange -> send(exchange, 200, "text/plain", bytes("not an envelope")));
        server.start();
        baseUrl = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stopStub() {
        server.stop(0);
    }

    @Test
    void textRoundTripPrintsTheDecryptedAnswer() throws Exception {
        CommandRun run = request("/v2/echo", REQUEST + "\n");

        assertThat(run.exitCode()).isZero();
        assertThat(receivedContentType).isEqualTo("text/plain");
        assertThat(run.out()).isEqualTo(jacksonPretty("{\"body\":" + REQUEST + ",\"status\":\"success\"}") + "\n");
    }

    @Test
    void binaryRoundTrip() throws Exception {
        CommandRun run = request("/v2/echo", REQUEST, "--binary");

        assertThat(run.exitCode()).isZero();
        assertThat(receivedContentType).isEqualTo("application/octet-stream");
        assertThat(run.out()).isEqualTo(jacksonPretty("{\"body\":" + REQUEST + ",\"status\":\"success\"}") + "\n");
    }

    @Test
    void aLargeAnswerIsPrintedAsASmallOneIs() throws Exception {
        String expected = jacksonPretty("{\"body\":" + LARGE_BODY + ",\"status\":\"success\"}") + "\n";

        CommandRun text = request("/v2/large", REQUEST);
        CommandRun binary = request("/v2/large", REQUEST, "--binary");

        assertThat(text.exitCode()).as(text.stderr()).isZero();
        assertThat(text.out()).isEqualTo(expected);
        assertThat(binary.exitCode()).as(binary.stderr()).isZero();
        assertThat(binary.out()).isEqualTo(expected);
    }

    @Test
    void aLargeAnswerWithAnotherNonceIsRejectedBeforeAnyOutput() {
        CommandRun run = request("/v2/large-wrong-nonce", REQUEST);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("nonce does not match");
    }

    @Test
    void anAnswerCutOffIsExitCode3() throws Exception {
        byte[] answer = Base64.getEncoder().encode(EnvelopeCodec.encryptResponse(
                bytes(LARGE_BODY), new byte[8], SECRET, System.currentTimeMillis()));
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread operator = new Thread(() -> {
                try (Socket connection = listener.accept()) {
                    readRequest(connection.getInputStream());
                    OutputStream out = connection.getOutputStream();
                    out.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                            + answer.length + "\r\n\r\n"));
                    out.write(answer, 0, answer.length / 2); // then the connection drops
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            operator.start();

            CommandRun run = CommandRun.run(RequestCommand::new, REQUEST,
                    "http://127.0.0.1:" + listener.getLocalPort() + "/v2/identity/buckets", KEY, SECRET_TEXT);
            operator.join();

            assertThat(run.exitCode()).isEqualTo(3);
            assertThat(run.stderr()).contains("failed while reading the answer");
        }
    }

    /** Headers, then as many body bytes as Content-Length says. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder headers = new StringBuilder();
        while (!headers.toString().endsWith("\r\n\r\n")) {
            headers.append((char) in.read());
        }
        Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(headers);
        in.readNBytes(length.find() ? Integer.parseInt(length.group(1)) : 0);
    }

    @Test
    void unauthorizedAnswerIsPrintedAsItCameWithExitCode1() {
        CommandRun run = CommandRun.run(RequestCommand::new, REQUEST, baseUrl + "/v2/echo", "wrong-key", SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEqualTo("{\"status\":\"unauthorized\"}");
        assertThat(run.stderr()).contains("HTTP 401");
    }

    @Test
    void clientErrorIsPrintedAsItCame() {
        CommandRun run = request("/v2/echo", "[1,2]");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEqualTo(
                "{\"message\":\"Invalid payload in body: Data is not valid json string.\",\"status\":\"client_error\"}");
        assertThat(run.stderr()).contains("HTTP 400");
    }

    @Test
    void answerWithAnotherNonceIsRejected() {
        CommandRun run = request("/v2/wrong-nonce", REQUEST);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("nonce");
    }

    @Test
    void successAnswerThatIsNotAnEnvelopeIsRejected() {
        CommandRun run = request("/v2/garbage", REQUEST);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("not a valid encrypted response");
    }

    @Test
    void unreachableServerIsExitCode3() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        CommandRun run = CommandRun.run(RequestCommand::new, REQUEST, "http://127.0.0.1:" + closedPort + "/v2/echo",
                KEY, SECRET_TEXT);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.stderr()).contains("failed");
    }

    @Test
    void invalidUrlOrSecretIsExitCode2() {
        assertThat(CommandRun.run(RequestCommand::new, REQUEST, "ftp://example.com/x", KEY, SECRET_TEXT).exitCode())
                .isEqualTo(2);
        assertThat(CommandRun.run(RequestCommand::new, REQUEST, baseUrl + "/v2/echo", KEY, "bad").exitCode())
                .isEqualTo(2);
    }

    private CommandRun request(String path, String stdin, String... extra) {
        String[] args = new String[3 + extra.length];
        args[0] = baseUrl + path;
        args[1] = KEY;
        args[2] = SECRET_TEXT;
        System.arraycopy(extra, 0, args, 3, extra.length);
        return CommandRun.run(RequestCommand::new, stdin, args);
    }

    /** Auth, then the envelope, then {"body":<request JSON>,"status":"success"} encrypted like the server does. */
    private void answer(HttpExchange exchange, boolean wrongNonce, String bodyOrNull) throws IOException {
        receivedContentType = exchange.getRequestHeaders().getFirst("Content-Type");
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (!("Bearer " + KEY).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            send(exchange, 401, "application/json", bytes("{\"status\":\"unauthorized\"}"));
            return;
        }
        DecodedRequest request;
        try {
            request = EnvelopeCodec.decodeRequest(body, "application/octet-stream".equals(receivedContentType), SECRET,
                    System.currentTimeMillis());
        } catch (EnvelopeException e) {
            send(exchange, 400, "application/json",
                    bytes("{\"message\":\"" + e.getMessage() + "\",\"status\":\"client_error\"}"));
            return;
        }
        byte[] nonce = wrongNonce ? EnvelopeCodec.randomNonce() : request.nonce();
        String answerBody = bodyOrNull != null ? bodyOrNull : request.json().toString();
        byte[] raw = EnvelopeCodec.encryptResponse(bytes("{\"body\":" + answerBody + ",\"status\":\"success\"}"),
                nonce, SECRET, System.currentTimeMillis());
        if (request.binary()) {
            send(exchange, 200, "application/octet-stream", raw);
        } else {
            send(exchange, 200, "text/plain", Base64.getEncoder().encode(raw));
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
