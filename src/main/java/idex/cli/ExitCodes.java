package idex.cli;

/** Exit codes of the client commands, so that scripts can tell the failures apart. */
final class ExitCodes {
    static final int SUCCESS = 0;
    /** The server's answer is not a decryptable success: an error status, plain JSON, a wrong secret or nonce. */
    static final int NOT_A_SUCCESS_ANSWER = 1;
    /** Bad command-line input such as an invalid secret or URL (picocli also uses 2 for usage errors). */
    static final int BAD_INPUT = 2;
    /** The server could not be reached or the exchange broke off. */
    static final int CONNECTION_FAILED = 3;

    private ExitCodes() {
    }
}
