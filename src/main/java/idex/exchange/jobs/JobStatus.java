package idex.exchange.jobs;

import idex.http.ApiError;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The lifecycle of spec §4.2. The spelling `WAITING_TO_RECIEVE_DATA` is the seed's and is kept byte-exact.
 * `NOTFOUND` is accepted as a query value and matches nothing.
 */
public enum JobStatus {
    SCHEDULED, WAITING_TO_RECIEVE_DATA, PENDING, RUNNING, READY_FOR_DOWNLOAD, COMPLETE, ERROR, CANCELLED, NOTFOUND;

    public boolean isFinal() {
        return this == COMPLETE || this == ERROR || this == CANCELLED;
    }

    public static JobStatus parse(String text) {
        for (JobStatus s : values()) {
            if (s.name().equals(text)) {
                return s;
            }
        }
        throw ApiError.badRequest("Unknown job status '" + text + "': use one of "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ".");
    }
}
