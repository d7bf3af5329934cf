package idex.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Prints a decrypted answer with Jackson's default pretty printer. */
final class PrettyJson {
    private static final JsonFactory JSON = JsonFactory.builder()
            // The streams are the caller's (standard output among them): closing them is the caller's business.
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            // A copy cut short by an error must not look complete.
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .build();

    private PrettyJson() {
    }

    /**
     * Prints a whole answer, or, if it is not JSON, the bytes as they are.
     *
     * @return the exit code: success, or not-a-success-answer when the decrypted bytes are not JSON
     */
    static int print(byte[] json, StdStreams io) throws IOException {
        ByteArrayOutputStream pretty = new ByteArrayOutputStream(json.length + json.length / 2 + 16);
        try (JsonParser parser = JSON.createParser(json)) {
            copy(parser, pretty);
        } catch (IOException e) {
            io.out().write(json, 0, json.length);
            io.out().println();
            io.out().flush();
            io.err().println("The decrypted response is not valid JSON: " + e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        pretty.writeTo(io.out());
        io.out().flush();
        return ExitCodes.SUCCESS;
    }

    /**
     * Copies the JSON read from {@code json} to {@code out} as it comes, so that memory stays constant whatever its
     * size; a parse error or the input's own IOException is thrown after part of the output has been written.
     */
    static void copy(InputStream json, OutputStream out) throws IOException {
        try (JsonParser parser = JSON.createParser(json)) {
            copy(parser, out);
        }
        out.flush();
    }

    /**
     * Token by token rather than through a tree: no tree in memory, and numbers keep their exact text. Ends with a
     * line break.
     */
    private static void copy(JsonParser parser, OutputStream out) throws IOException {
        try (JsonGenerator generator = JSON.createGenerator(out).useDefaultPrettyPrinter()) {
            while (parser.nextToken() != null) {
                generator.copyCurrentEventExact(parser);
            }
        }
        out.write('\n');
    }
}
