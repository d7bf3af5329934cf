package idex.exchange.jobs.schedule;

import java.time.Instant;

/**
 * The period of data a job covers (`timeSliceStartDate` … `timeSliceEndDate`): carried on the job for the source to
 * read, it has no effect on when the job runs. Either end may be open (null); the end is inclusive (the end of the
 * day when only a date was given).
 */
public record TimeSlice(Instant start, Instant end) {
}
