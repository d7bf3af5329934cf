package idex.exchange.jobs.http;

import idex.errors.Refusal;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Decides whether a received upload is a CSV this job can use, from its beginning: text in UTF-8 without NUL
 * bytes, and a header row that names at least one of the producer's identifiers (spec §4.3). Individual bad rows
 * are for processing to count; a file that fails here is refused whole and the job keeps waiting.
 */
public final class UploadCheck {

    /** How much of the (decompressed) upload is inspected. */
    private static final int PREFIX = 64 * 1024;

    private UploadCheck() {
    }

    /** Opens an upload as stored, decompressing a gzip one. */
    static InputStream open(Path file, boolean gzip) throws IOException {
        InputStream in = Files.newInputStream(file);
        return gzip ? new GZIPInputStream(in, 64 * 1024) : in;
    }

    public static List<String> check(Path file, boolean gzip, Registration producer, long producerId) {
        byte[] prefix;
        try (InputStream in = open(file, gzip)) {
            prefix = in.readNBytes(PREFIX);
        } catch (ZipException e) {
            throw notGzip(e);
        } catch (EOFException e) {
            throw endsEarly();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (prefix.length == 0) {
            throw Refusal.invalid("The upload is empty: send a CSV file whose first row names its columns.");
        }
        for (byte b : prefix) {
            if (b == 0) {
                throw Refusal.invalid("The upload is binary, not a CSV file: send UTF-8 text with a header row.");
            }
        }
        String text = utf8(prefix, prefix.length < PREFIX);
        int end = text.indexOf('\n');
        if (end < 0 && prefix.length == PREFIX) {
            throw Refusal.invalid("The first line is longer than " + PREFIX / 1024 + " KiB: the upload must start"
                    + " with a header row naming its columns.");
        }
        String headerLine = end < 0 ? text : text.substring(0, end);
        List<String> header;
        try (CsvReader<CsvRecord> reader = CsvReader.builder().allowUnclosedQuote(false).ofCsvRecord(headerLine)) {
            Iterator<CsvRecord> it = reader.iterator();
            header = it.hasNext() ? it.next().getFields().stream().map(String::trim).toList() : List.of();
        } catch (IOException | RuntimeException e) {
            throw Refusal.invalid("The header row is not valid CSV: " + e.getMessage());
        }
        if (header.stream().noneMatch(h -> producer.identifier(h).isPresent())) {
            throw Refusal.invalid("The header row (" + String.join(",", header) + ") names none of endpoint "
                    + producerId + "'s identifiers (" + String.join(", ", producer.identifiers().stream()
                    .map(DeclaredIdentifier::name).toList()) + "): the first row must name the columns.");
        }
        return header;
    }

    /**
     * Reads a gzip upload to its end, so that one cut short or damaged in transit is refused now, while the job still
     * waits for data, rather than failing the job later: the trailer's CRC and length are checked by
     * {@link GZIPInputStream} once the last member is read. This costs a pass of inflating, on a worker thread.
     */
    static void checkGzipEnd(Path file) {
        byte[] sink = new byte[256 * 1024];
        try (InputStream in = open(file, true)) {
            while (in.read(sink) >= 0) {
                // only the stream's end matters
            }
        } catch (ZipException e) {
            throw notGzip(e);
        } catch (EOFException e) {
            throw endsEarly();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Refusal endsEarly() {
        return Refusal.invalid("The gzip stream ends early: the file was cut off before its end (an interrupted"
                + " compression or copy). Compress the whole file again and send it; the job still waits for data.");
    }

    private static Refusal notGzip(ZipException e) {
        if ("Not in GZIP format".equals(e.getMessage())) {
            return Refusal.invalid("The body is sent as Content-Encoding: gzip but is not gzip data: send it"
                    + " uncompressed or compress it with gzip.");
        }
        return Refusal.invalid("The gzip data is corrupt (" + e.getMessage() + "): compress the file again and"
                + " send it; the job still waits for data.");
    }

    /** The prefix as text; a multi-byte character cut at the end of a partial prefix is not an error. */
    private static String utf8(byte[] bytes, boolean whole) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        var result = decoder.decode(in, out, whole);
        if (result.isError() || (whole && in.hasRemaining())) {
            throw Refusal.invalid("The upload is not UTF-8 text: save the CSV as UTF-8 and send it again.");
        }
        out.flip();
        String s = out.toString();
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }
}
