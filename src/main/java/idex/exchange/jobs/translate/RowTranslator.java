package idex.exchange.jobs.translate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Translates the rows of one job run, one at a time, and keeps the job's counts. One instance per thread: it reuses
 * its buffers and its output row. Obtain it from {@link RowTranslation#translator}; call {@link #translate} for each
 * data row, then {@link #finish()} once (graph translation sends its last batch then), then read {@link #counts()}.
 */
public abstract sealed class RowTranslator permits MappedRowTranslator, GraphRowTranslator {

    /** Bad rows kept for errorDetails; the rest are only counted. */
    public static final int LISTED_BAD_ROWS = 20;

    protected final RowTranslation translation;
    protected final OutputRows out;
    /** The output row, reused: {@link OutputRows#write} consumes it before the next row is built. */
    protected final String[] row;

    private long sourceRecords;
    private long translatedRecords;
    private long destinationRecords;
    private long badRecords;
    private final SkippedRows skipped = new SkippedRows();
    private final List<BadRow> firstBadRows = new ArrayList<>();

    RowTranslator(RowTranslation translation, OutputRows out) {
        this.translation = translation;
        this.out = out;
        this.row = new String[translation.outputWidth()];
        Arrays.fill(row, "");
    }

    /**
     * Translates one data row (the fields of one CSV record) and writes what it produces, now or, for graph
     * translation, when its batch is looked up.
     *
     * @param line the row's line number in the file, for errorDetails
     * @return the reason the row was skipped, or null when it was usable (which does not mean it produced a row:
     *         an opted-out email or a person unknown to the graph produces nothing without being an error)
     */
    public final BadRow translate(String[] fields, long line) throws IOException {
        sourceRecords++;
        String problem = translation.rowProblem(fields);
        SkipReason reason;
        if (problem != null) {
            reason = translation.hasColumnCount(fields) ? SkipReason.NO_IDENTIFIER_VALUE : SkipReason.WRONG_COLUMN_COUNT;
        } else {
            problem = translateUsable(fields);
            if (problem == null) {
                return null;
            }
            reason = SkipReason.INVALID_IDENTIFIER_VALUE; // the only problem a usable row can have
        }
        badRecords++;
        skipped.count(reason);
        BadRow bad = new BadRow(line, problem);
        if (firstBadRows.size() < LISTED_BAD_ROWS) {
            firstBadRows.add(bad);
        }
        return bad;
    }

    /** Sends what is still pending (graph translation's last batch). */
    public void finish() throws IOException {
    }

    /** The counts so far; final after {@link #finish()}. */
    public TranslationCounts counts() {
        return new TranslationCounts(sourceRecords, translatedRecords, destinationRecords, badRecords);
    }

    /**
     * Every skipped row by reason, bad or not: with {@link TranslationCounts#translatedRecords()} they make
     * {@link TranslationCounts#sourceRecords()}. Final after {@link #finish()}.
     */
    public SkippedRows skipped() {
        return skipped.copy();
    }

    /** The first {@value #LISTED_BAD_ROWS} bad rows, in file order. */
    public List<BadRow> firstBadRows() {
        return List.copyOf(firstBadRows);
    }

    /** Translates a row with the right column count and an identifier; answers why it is bad, or null. */
    abstract String translateUsable(String[] fields) throws IOException;

    /** Records one source row that produced `written` (at least one) rows for the destination. */
    final void produced(int written) {
        translatedRecords++;
        destinationRecords += written;
    }

    /** Records one usable source row that produced nothing for the destination, and why. */
    final void skip(SkipReason reason) {
        skipped.count(reason);
    }

    /** Copies the mapped attributes of a row into the output row, verbatim: attributes are the producer's data. */
    final void copyAttributes(String[] attributeValues) {
        MappedAttribute[] attributes = translation.mappedAttributes();
        for (int k = 0; k < attributes.length; k++) {
            String v = attributeValues[k];
            row[attributes[k].outputColumn()] = v == null ? "" : v;
        }
    }
}
