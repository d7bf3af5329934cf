package idex.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The streams behind `idex jobs upload --gzip` and the progress line of uploads and downloads. */
class TransferStreamsTest {

    @Test
    void gzipOnTheFlyDecodesToTheSameBytesWithAValidTrailer() throws Exception {
        byte[] text = new byte[3_000_000];
        Random random = new Random(7);
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + random.nextInt(6)); // compressible, as CSV is
        }
        for (byte[] content : new byte[][]{text, new byte[0], "x".getBytes(StandardCharsets.UTF_8)}) {
            byte[] gz;
            try (InputStream in = new GzipEncodingStream(new ByteArrayInputStream(content))) {
                gz = in.readAllBytes();
            }
            // GZIPInputStream checks the header, the CRC-32 and the length in the trailer
            try (InputStream back = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                assertThat(back.readAllBytes()).isEqualTo(content);
            }
            if (content.length > 1000) {
                assertThat(gz.length).isLessThan(content.length / 2);
            }
        }
    }

    @Test
    void gzipOnTheFlyReadsByteByByteToo() throws Exception {
        byte[] content = "email\nann@example.com\n".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (InputStream in = new GzipEncodingStream(new ByteArrayInputStream(content))) {
            int b;
            while ((b = in.read()) >= 0) {
                gz.write(b);
            }
        }
        try (InputStream back = new GZIPInputStream(new ByteArrayInputStream(gz.toByteArray()))) {
            assertThat(back.readAllBytes()).isEqualTo(content);
        }
    }

    @Test
    void onATerminalProgressIsOneRedrawnLineElsewhereNothing() throws Exception {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(terminal, true, StandardCharsets.UTF_8), true, "a.csv", 3 * 1024 * 1024, 0);
        try (InputStream in = p.counting(new ByteArrayInputStream(new byte[3 * 1024 * 1024]))) {
            in.readAllBytes();
        }
        p.finish();
        String shown = terminal.toString(StandardCharsets.UTF_8);
        assertThat(shown).startsWith("\ra.csv  0 B / 3.0 MiB  0%").endsWith("\ra.csv  3.0 MiB / 3.0 MiB  100%\n");
        assertThat(shown.chars().filter(c -> c == '\n').count()).isEqualTo(1);

        ByteArrayOutputStream pipe = new ByteArrayOutputStream();
        Progress quiet = new Progress(new PrintStream(pipe, true, StandardCharsets.UTF_8), false, "a.csv", 10, 0);
        quiet.add(10);
        quiet.finish();
        assertThat(pipe.size()).isZero();
        assertThat(quiet.done()).isEqualTo(10);
    }
}
