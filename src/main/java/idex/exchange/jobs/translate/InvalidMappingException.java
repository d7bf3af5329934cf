package idex.exchange.jobs.translate;

import java.util.List;

/**
 * A job's mappings or an uploaded header that cannot be translated: job creation answers 400 with the message, an
 * upload answers 400 and the job keeps waiting for data. Every problem found is listed, so that the caller can fix
 * them all at once instead of one per attempt.
 */
public final class InvalidMappingException extends RuntimeException {

    private final List<String> problems;

    public InvalidMappingException(List<String> problems) {
        super(String.join(" ", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("an invalid mapping needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Each problem as a sentence that says what to fix. */
    public List<String> problems() {
        return problems;
    }
}
