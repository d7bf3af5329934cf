package idex.cli;

/** A client command that cannot go on: the sentence to print and the exit code (see {@link ExitCodes}). */
final class CommandFailure extends Exception {

    private final int exitCode;

    CommandFailure(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
