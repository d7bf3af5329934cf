package idex.cli;

import idex.uid2.envelope.EnvelopeCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code idex request URL KEY SECRET [--binary]}: one encrypted round trip, nonce checked. */
@Command(name = "request",
        description = {
                "Encrypts the JSON request read from standard input, POSTs it to URL with 'Authorization: Bearer KEY',"
                        + " checks the answer's nonce and prints the decrypted JSON, pretty-printed.",
                "A non-200 answer is printed as it came (body on standard output, 'HTTP <status>' on standard error).",
                "Example:",
                "  echo '{\"since_timestamp\":\"2022-06-01T13:00:00\"}' \\",
                "  | idex request http://localhost:8080/v2/identity/buckets KEY SECRET"},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {
                "0:decrypted JSON printed",
                "1:non-200 answer, or an answer that does not decrypt or has the wrong nonce (any decrypted output"
                        + " printed is then not to be trusted)",
                "2:invalid URL, secret or usage",
                "3:the server could not be reached, or the answer was cut off"})
public final class RequestCommand implements Callable<Integer> {
    static final String OCTET_STREAM = "application/octet-stream";
    private static final String NOT_AN_ENVELOPE = "HTTP 200 answer is not a valid encrypted response: ";

    @Parameters(index = "0", paramLabel = "URL", description = "Endpoint, e.g. https://host/v2/identity/buckets.")
    String url;

    @Parameters(index = "1", paramLabel = "KEY", description = "Client API key (sent as a bearer token).")
    String apiKey;

    @Parameters(index = "2", paramLabel = "SECRET", description = "Client secret: base64 of 32 bytes.")
    String secret;

    @Option(names = "--binary", description = "Send the raw envelope as application/octet-stream (answer comes raw too)"
            + " instead of base64 text/plain.")
    boolean binary;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Connection timeout in seconds (default: ${DEFAULT-VALUE}).")
    int connectTimeoutSeconds;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    private final StdStreams streams;

    public RequestCommand() {
        this(null);
    }

    RequestCommand(StdStreams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws IOException {
        StdStreams io = StdStreams.orSystem(streams);
        byte[] key;
        HttpRequest.Builder request;
        try {
            key = ClientSecrets.parse(secret);
            request = HttpRequest.newBuilder(URI.create(url));
        } catch (IllegalArgumentException e) {
            io.err().println(e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
        byte[] nonce = EnvelopeCodec.randomNonce();
        byte[] envelope = EnvelopeCodec.encryptRequest(io.readInputWithoutTrailingNewlines(), key,
                System.currentTimeMillis(), nonce);
        request.header("Authorization", "Bearer " + apiKey)
                .header("Content-Type", binary ? OCTET_STREAM : "text/plain")
                .POST(HttpRequest.BodyPublishers.ofByteArray(binary ? envelope : Base64.getEncoder().encode(envelope)));

        HttpResponse<InputStream> response;
        try {
            response = send(request.build());
        } catch (IOException e) {
            io.err().println("Request to " + url + " failed: " + e);
            return ExitCodes.CONNECTION_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            io.err().println("Interrupted");
            return ExitCodes.CONNECTION_FAILED;
        }

        try (InputStream body = new AnswerBody(response.body())) {
            if (response.statusCode() != 200) {
                body.transferTo(io.out());
                io.out().flush();
                io.err().println("HTTP " + response.statusCode());
                return ExitCodes.NOT_A_SUCCESS_ANSWER;
            }
            // Go by what the server says it sent: a binary request may still be answered in text (spec §1 fallback).
            boolean rawAnswer = response.headers().firstValue("Content-Type")
                    .map(type -> type.toLowerCase(Locale.ROOT).startsWith(OCTET_STREAM)).orElse(false);
            return DecryptedAnswerPrinter.print(rawAnswer ? body : Base64Body.decoding(body), key, nonce,
                    NOT_AN_ENVELOPE, io);
        } catch (ConnectionLost e) {
            io.out().flush();
            io.err().println("Request to " + url + " failed while reading the answer: " + e.getCause());
            return ExitCodes.CONNECTION_FAILED;
        } catch (IOException e) { // the base64 decoder's
            io.out().flush();
            io.err().println(NOT_AN_ENVELOPE + e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws IOException, InterruptedException {
        // HTTP/1.1: without it the client offers an h2c upgrade on plain http, which gains nothing here.
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(connectTimeoutSeconds))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    /** The answer as it arrives; its read failures are the connection's, told apart from the answer's own. */
    private static final class AnswerBody extends FilterInputStream {
        AnswerBody(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new ConnectionLost(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new ConnectionLost(e);
            }
        }
    }

    private static final class ConnectionLost extends IOException {
        ConnectionLost(IOException cause) {
            super(cause);
        }
    }
}
