package idex.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Prints a decrypted answer with Jackson's default pretty printer. */
final class PrettyJson {
    private static final JsonFactory JSON = new JsonFactory();

    private PrettyJson() {
    }

    /**
     * Token by token rather than through a tree: large answers (tens of MB) need no tree in memory, and numbers keep
     * their exact text. Falls back to the bytes as they are if they are not JSON.
     *
     * @return the exit code: success, or not-a-success-answer when the decrypted bytes are not JSON
     */
    static int print(byte[] json, StdStreams io) throws IOException {
        ByteArrayOutputStream pretty = new ByteArrayOutputStream(json.length + json.length / 2 + 16);
        try (JsonParser parser = JSON.createParser(json);
             JsonGenerator generator = JSON.createGenerator(pretty).useDefaultPrettyPrinter()) {
            while (parser.nextToken() != null) {
                generator.copyCurrentEventExact(parser);
            }
        } catch (IOException e) {
            io.out().write(json, 0, json.length);
            io.out().println();
            io.out().flush();
            io.err().println("The decrypted response is not valid JSON: " + e.getMessage());
            return ExitCodes.NOT_A_SUCCESS_ANSWER;
        }
        pretty.write('\n');
        pretty.writeTo(io.out());
        io.out().flush();
        return ExitCodes.SUCCESS;
    }
}
