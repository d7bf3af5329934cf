package idex.exchange.jobs;

import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.ReadyJobs.waitingExport;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `Expect: 100-continue` on uploads, as curl sends it for large bodies: the server says 100 only once the job takes
 * data, and a refusal comes instead, before any body byte, on a connection it then closes.
 */
class UploadExpectContinueTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";
    private static final byte[] CSV = "email\nann@example.com\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    static Path dir;
    static TestServer server;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 16);
        TestAccount acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Sends the head only; answers the server's first response head. */
    private static String head(Socket s, long jobId, String key) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/jobs/" + jobId + "/data HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: text/csv\r\nContent-Length: " + CSV.length + "\r\nExpect: 100-continue\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return readHead(s.getInputStream());
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void theBodyIsAskedForOnlyWhenTheJobTakesIt() throws Exception {
        long jobId = waitingExport(source, destination);
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            assertThat(head(s, jobId, source.client().key())).startsWith("HTTP/1.1 100 Continue");
            s.getOutputStream().write(CSV);
            s.getOutputStream().flush();
            assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void aRefusalComesInsteadOf100AndClosesTheConnection() throws Exception {
        long jobId = waitingExport(source, destination);
        String[][] refusals = {{source.client().key(), "987654321", "404"}, {destination.client().key(), "" + jobId, "403"},
                {"idex_nosuchkey_secret", "" + jobId, "401"}};
        for (String[] r : refusals) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(10_000);
                String head = head(s, Long.parseLong(r[1]), r[0]);
                assertThat(head).as(r[2]).startsWith("HTTP/1.1 " + r[2]).containsIgnoringCase("connection: close");
                InputStream in = s.getInputStream();
                in.readNBytes(Integer.parseInt(head.replaceAll("(?is).*content-length: (\\d+).*", "$1")));
                assertThat(in.read()).as("closed").isEqualTo(-1);
            }
        }
        assertThat(source.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0).get("status").asText())
                .isEqualTo("WAITING_TO_RECIEVE_DATA");
    }
}
