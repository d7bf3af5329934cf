package idex.exchange.jobs.engine;

import de.siegmar.fastcsv.reader.AbstractBaseCsvCallbackHandler;
import de.siegmar.fastcsv.reader.CsvParseException;

import java.util.Arrays;

/**
 * FastCSV's records of an upload as plain arrays of fields, the one form the rest of a run uses (FastCSV's own record
 * would be copied twice more per row, into a list and back). The line number of the record built last is
 * {@link #line()}. One per reader.
 */
final class UploadRows extends AbstractBaseCsvCallbackHandler<String[]> {

    /** FastCSV's own limit: a record is held whole, so a row of millions of empty fields must not be. */
    private static final int MAX_FIELDS = 16_384;

    private String[] fields = new String[16];

    @Override
    protected void handleField(int index, char[] buf, int offset, int len, boolean quoted) {
        if (index == fields.length) {
            if (index == MAX_FIELDS) {
                throw new CsvParseException("the row starting at line " + getStartingLineNumber() + " has more than "
                        + MAX_FIELDS + " fields");
            }
            fields = Arrays.copyOf(fields, Math.min(2 * fields.length, MAX_FIELDS));
        }
        fields[index] = new String(buf, offset, len);
    }

    @Override
    protected String[] buildRecord() {
        return Arrays.copyOf(fields, getFieldCount());
    }

    /** Where the record built last starts in the file. */
    long line() {
        return getStartingLineNumber();
    }
}
