package idex.exchange;

import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.OpenApiDocument;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies cost bounded memory: the bodies held at once stay within the server's budget, a large body that does
 * not fit is answered 503 with Retry-After (and a small one still passes), a body over the per-request limit 413,
 * and the server keeps answering afterwards.
 */
class RequestBodyBudgetTest {

    private static final int MIB = 1024 * 1024;
    private static final long BUDGET = 8 * MIB;
    private static final String TS = "2026-11-23T10:00:00Z";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestEndpoint web;
    static String key;

    @BeforeAll
    static void start() {
        server = TestServer.startWithBodyBudget(dir, BUDGET);
        TestAccount acme = ExchangeAccounts.account(server, "Acme");
        web = ExchangeAccounts.endpoint(server, acme, registration("Web", "source", "push",
                "[{\"name\":\"email\",\"type\":\"email\"}]"));
        key = web.registration().get("key").asText();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aLargeBodyBeyondTheBudgetIs503WithRetryAfterWhileSmallOnesStillPass() throws Exception {
        byte[] held = eventBody("held", 3 * MIB);
        try (Socket first = new Socket("127.0.0.1", server.port());
             Socket second = new Socket("127.0.0.1", server.port())) {
            // two bodies of 3 MiB, half sent: 6 of the 8 MiB are held until they are answered
            sendHalf(first, held);
            sendHalf(second, held);
            Eventually.await("two bodies reserved", RequestBodyBudgetTest::reserved, r -> r == 6L * MIB);

            try (Socket third = new Socket("127.0.0.1", server.port())) {
                third.setSoTimeout(30_000);
                send(third, "/v1/event", eventBody("third", 3 * MIB));
                Response busy = read(third);
                assertThat(busy.status()).isEqualTo(503);
                assertThat(busy.header("retry-after")).isEqualTo("2");
                assertThat(busy.header("content-type")).isEqualTo("application/json");
                assertThat(busy.body()).contains("\"message\"").contains("8 MiB").contains("again");
                // the refused body was read and dropped: the same connection carries the next request
                send(third, "/v1/event", eventBody("after-503", 1024));
                assertThat(read(third).status()).isEqualTo(200);
            }

            assertThat(web.client().post("/v1/event", eventJson("small")).status())
                    .as("a small body passes even while the budget is spent").isEqualTo(200);

            finish(first, held);
            finish(second, held);
            assertThat(read(first).status()).isEqualTo(200);
            assertThat(read(second).status()).isEqualTo(200);
        }
        Eventually.await("every reservation released", RequestBodyBudgetTest::reserved, r -> r == 0);
    }

    @Test
    void aBodyOverTheLimitIs413NamingIt() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            String head = "POST /v1/event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + (16 * MIB + 1) + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            Response tooLarge = read(socket);
            assertThat(tooLarge.status()).isEqualTo(413);
            assertThat(tooLarge.body()).contains("16 MiB").contains("16777216 bytes");
        }
    }

    @Test
    void manyConcurrentLargeBodiesGetOnly2xxOr503AndTheServerAnswersAfterwards() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.url("/v1/event")))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(eventBody("load-" + i, 2 * MIB))).build();
            answers.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .thenApply(r -> {
                        OpenApiDocument.check(request, r);
                        return r;
                    }));
        }
        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> a : answers) {
            HttpResponse<String> r = a.get(90, TimeUnit.SECONDS); // a timeout or a reset connection fails here
            assertThat(r.statusCode()).as(r.body()).isIn(200, 503);
            if (r.statusCode() == 503) {
                assertThat(r.headers().firstValue("Retry-After")).hasValue("2");
                assertThat(r.body()).contains("\"message\"");
            } else {
                ok++;
            }
        }
        assertThat(ok).as("bodies within the budget are taken").isPositive();
        assertThat(web.client().post("/v1/event", eventJson("afterwards")).status()).isEqualTo(200);
        Eventually.await("every reservation released", RequestBodyBudgetTest::reserved, r -> r == 0);
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    /** What the server reports holding of its body budget (its /metrics gauge). */
    private static long reserved() {
        try (InputStream in = URI.create(server.url("/metrics")).toURL().openStream()) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("idex_http_body_budget_reserved_bytes ")) {
                    return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no body budget gauge in /metrics");
    }

    private static String eventJson(String who) {
        return "{\"events\":[{\"code\":\"signup\",\"timestamp\":\"" + TS + "\",\"identifiers\":[{\"name\":\"email\","
                + "\"value\":\"" + who + "-" + System.nanoTime() + "@example.com\"}]}]}";
    }

    /** A valid event batch of exactly `size` bytes: one event, padded with JSON whitespace. */
    private static byte[] eventBody(String who, int size) {
        String json = eventJson(who);
        StringBuilder b = new StringBuilder(size).append(json, 0, json.length() - 1);
        b.append(" ".repeat(size - json.length())).append('}');
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void send(Socket socket, String path, byte[] body) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(head(path, body.length));
        out.write(body);
        out.flush();
    }

    private static void sendHalf(Socket socket, byte[] body) throws IOException {
        socket.setSoTimeout(30_000);
        OutputStream out = socket.getOutputStream();
        out.write(head("/v1/event", body.length));
        out.write(body, 0, body.length / 2);
        out.flush();
    }

    private static void finish(Socket socket, byte[] body) throws IOException {
        socket.getOutputStream().write(body, body.length / 2, body.length - body.length / 2);
        socket.getOutputStream().flush();
    }

    private static byte[] head(String path, int length) {
        return ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private record Response(int status, List<String> headers, String body) {
        String header(String name) {
            for (String h : headers) {
                int colon = h.indexOf(':');
                if (h.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                    return h.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    /** One HTTP/1.1 response with a Content-Length body. */
    private static Response read(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed before a whole response head: " + head);
            }
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        List<String> headers = List.of(lines).subList(1, lines.length);
        Response partial = new Response(status, headers, "");
        int length = Integer.parseInt(partial.header("content-length"));
        return new Response(status, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }
}
