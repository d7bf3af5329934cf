package idex.exchange.jobs.model;

import idex.errors.Refusal;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The lifecycle of spec §4.2. The spelling `WAITING_TO_RECIEVE_DATA` is the seed's answers' and is kept byte-exact in
 * every answer; the seeds also write `WAITING_TO_RECEIVE_DATA`, so a status read from a request takes either.
 * `NOTFOUND` is accepted as a query value and matches nothing.
 */
public enum JobStatus {
    SCHEDULED, WAITING_TO_RECIEVE_DATA, PENDING, RUNNING, READY_FOR_DOWNLOAD, COMPLETE, ERROR, CANCELLED, NOTFOUND;

    public boolean isFinal() {
        return this == COMPLETE || this == ERROR || this == CANCELLED;
    }

    /** The other spelling the seeds use for {@link #WAITING_TO_RECIEVE_DATA}. */
    static final String WAITING_TO_RECEIVE_DATA = "WAITING_TO_RECEIVE_DATA";

    public static JobStatus parse(String text) {
        if (WAITING_TO_RECEIVE_DATA.equals(text)) {
            return WAITING_TO_RECIEVE_DATA;
        }
        for (JobStatus s : values()) {
            if (s.name().equals(text)) {
                return s;
            }
        }
        throw Refusal.invalid("Unknown job status '" + text + "': use one of "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ".");
    }
}
