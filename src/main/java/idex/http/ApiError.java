package idex.http;

import idex.json.Json;

/** An answer other than success, with the sentence that tells the caller what to fix: `{"message":"…"}`. */
public final class ApiError extends RuntimeException {

    private final int status;

    public ApiError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }

    public static ApiError unauthorized() {
        return new ApiError(401, "Missing, unknown or revoked key: send Authorization: Bearer <key>.");
    }

    public static ApiError forbidden(String message) {
        return new ApiError(403, message);
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, message);
    }

    public static ApiError conflict(String message) {
        return new ApiError(409, message);
    }

    public String body() {
        return Json.write(Json.object().put("message", getMessage()));
    }
}
