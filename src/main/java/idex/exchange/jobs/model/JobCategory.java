package idex.exchange.jobs.model;

import idex.errors.Refusal;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The kinds of job (seed 004), each with the job name the API shows. */
public enum JobCategory {
    SEGMENT_EXPORT("EXPORT_SEGMENT"),
    IDENTITY_IMPORT("IMPORT_IDENTITY"),
    SEGMENT_POPULATE_DB("POPULATE_DB");

    private final String jobName;

    JobCategory(String jobName) {
        this.jobName = jobName;
    }

    public String jobName() {
        return jobName;
    }

    /** The category named in a path; 400 naming the valid ones otherwise. */
    public static JobCategory parse(String text) {
        for (JobCategory c : values()) {
            if (c.name().equals(text)) {
                return c;
            }
        }
        throw Refusal.invalid("Unknown job category '" + text + "': use one of "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ".");
    }
}
