package idex.http;

/**
 * A refusal only the HTTP edge can make (no valid key, a body too large, no room for a body, a range outside a
 * file), with its status: domain code throws {@link idex.errors.Refusal} instead.
 */
public final class ApiError extends RuntimeException {

    private final int status;

    public ApiError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiError unauthorized() {
        return new ApiError(401, "Missing, unknown or revoked key: send Authorization: Bearer <key>.");
    }
}
