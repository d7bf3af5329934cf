package idex.cli;

/** Exit codes of the client commands, so that scripts can tell the failures apart. */
final class ExitCodes {
    static final int SUCCESS = 0;
    /**
     * The server's answer is not a success: an error status, or (request) plain JSON, a wrong secret or nonce, or
     * (jobs) a job not in the state the command needs.
     */
    static final int NOT_A_SUCCESS_ANSWER = 1;
    /** Bad command-line input: an invalid secret, URL or key, a missing file (picocli also uses 2 for usage errors). */
    static final int BAD_INPUT = 2;
    /** The server could not be reached or the exchange broke off (a cut download resumes when run again). */
    static final int CONNECTION_FAILED = 3;

    private ExitCodes() {
    }
}
