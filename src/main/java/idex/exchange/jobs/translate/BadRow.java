package idex.exchange.jobs.translate;

/** A skipped row of an upload: its line number in the file and a short reason, for the job's errorDetails. */
public record BadRow(long line, String reason) {

    @Override
    public String toString() {
        return "line " + line + ": " + reason;
    }
}
