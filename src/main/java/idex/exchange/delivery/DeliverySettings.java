package idex.exchange.delivery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How this node delivers events: the time one attempt may take, the waits between attempts (the number of steps is
 * the number of retries), how long a destination may fail every attempt before it is turned off, how many requests
 * one destination may have in flight, whether private networks are allowed targets, and how long the delivery log
 * keeps finished deliveries.
 */
public record DeliverySettings(Duration timeout, List<Duration> retrySchedule, Duration disableAfter, int concurrency,
                               boolean allowPrivateNetworks, Duration retention) {

    public static final String DEFAULT_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h";

    public DeliverySettings {
        Objects.requireNonNull(timeout, "timeout");
        retrySchedule = List.copyOf(retrySchedule);
        Objects.requireNonNull(disableAfter, "disableAfter");
        Objects.requireNonNull(retention, "retention");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the delivery timeout must be positive");
        }
        if (concurrency < 1 || concurrency > 256) {
            throw new IllegalArgumentException("the delivery concurrency is from 1 to 256, not " + concurrency);
        }
    }

    public static DeliverySettings defaults() {
        return new DeliverySettings(Duration.ofSeconds(15), schedule(DEFAULT_SCHEDULE), Duration.ofDays(5), 8, false,
                Duration.ofDays(7));
    }

    /**
     * The wait before retry number `step` (from 0) of `schedule`, shortened by what a 429/503's `Retry-After` asked
     * (never lengthened: the schedule's step is the most); empty when the schedule has no such step (give up).
     */
    public static OptionalLong retryWait(List<Duration> schedule, int step, Long retryAfterMs) {
        if (step >= schedule.size()) {
            return OptionalLong.empty();
        }
        long wait = schedule.get(step).toMillis();
        return OptionalLong.of(retryAfterMs == null ? wait : Math.min(wait, Math.max(0, retryAfterMs)));
    }

    /** Every attempt a delivery gets: the first and one per step of the schedule. */
    public int maxAttempts() {
        return retrySchedule.size() + 1;
    }

    /**
     * A retry schedule written as durations separated by commas, each a number and a unit (`ms`, `s`, `m`, `h`,
     * `d`): `5s,5m,30m`. An empty text is no retry at all.
     */
    public static List<Duration> schedule(String text) {
        List<Duration> steps = new ArrayList<>();
        if (text.isBlank()) {
            return steps;
        }
        for (String part : text.split(",")) {
            steps.add(duration(part.trim()));
        }
        return steps;
    }

    /** One duration such as `15s`, `500ms`, `5m`, `2h` or `7d`. */
    public static Duration duration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int unitAt = 0;
        while (unitAt < t.length() && Character.isDigit(t.charAt(unitAt))) {
            unitAt++;
        }
        if (unitAt == 0 || unitAt > 12) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration such as 500ms, 15s, 5m, 2h or 7d");
        }
        long n = Long.parseLong(t.substring(0, unitAt));
        return switch (t.substring(unitAt)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("\"" + text + "\" is not a duration such as 500ms, 15s, 5m,"
                    + " 2h or 7d");
        };
    }
}
