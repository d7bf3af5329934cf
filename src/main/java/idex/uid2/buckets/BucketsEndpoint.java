package idex.uid2.buckets;

import com.fasterxml.jackson.databind.JsonNode;
import idex.uid2.clients.ClientKey;
import idex.uid2.envelope.DecodedRequest;
import idex.uid2.envelope.Uid2Answer;
import idex.uid2.envelope.Uid2ClientError;
import idex.uid2.salts.LiveSalts;
import idex.uid2.salts.SaltBuckets;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * `POST /v2/identity/buckets`: the buckets whose salt changed at or after `since_timestamp`, answered from the
 * in-memory time index (a binary search, then a walk to the newest bucket).
 */
public final class BucketsEndpoint {

    static final String MISSING = "missing parameter since_timestamp";
    static final String INVALID = "invalid date, must conform to ISO 8601";
    /** Above this many buckets the answer is streamed rather than built whole. */
    private static final int STREAM_ABOVE = 16_384;
    /** ISO-8601 local date-time as the reference accepts it: seconds optional, 1–9 fraction digits, no offset. */
    private static final Pattern LOCAL_DATE_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?");
    /** The same with an offset, which idex refuses with a message that says so rather than the reference's. */
    private static final Pattern WITH_OFFSET = Pattern.compile(LOCAL_DATE_TIME.pattern() + "(Z|z|[+-]\\d{2}(:?\\d{2})?)");
    /**
     * Integers from here on can only be milliseconds: 10^11 seconds is the year 5138, while 10^11 ms is 1973 and every
     * millisecond timestamp since then is larger.
     */
    static final long FIRST_MILLISECONDS = 100_000_000_000L;

    private final LiveSalts salts;
    private volatile RecentBucketsJson recent;

    public BucketsEndpoint(LiveSalts salts) {
        this.salts = salts;
    }

    public Uid2Answer answer(DecodedRequest request, ClientKey key) throws Uid2ClientError {
        long since = sinceMillis(request.json().get("since_timestamp"));
        SaltBuckets buckets = salts.current();
        SaltBuckets.TimeIndex index = buckets.timeIndex(); // one generation for the whole answer
        int rank = index.firstRankAtOrAfter(since);
        RecentBucketsJson cached = recentFor(buckets, index);
        if (cached.covers(rank) && index.count() - rank <= STREAM_ABOVE) {
            return new Uid2Answer.Whole(cached.document(rank));
        }
        BucketListJson list = new BucketListJson(buckets, index, rank);
        if (list.remaining() <= STREAM_ABOVE) {
            return new Uid2Answer.Whole(list.whole());
        }
        return new Uid2Answer.Streamed(list::next);
    }

    /** The formatted newest entries of this salt set, made once after each change of the set. */
    private RecentBucketsJson recentFor(SaltBuckets buckets, SaltBuckets.TimeIndex index) {
        RecentBucketsJson r = recent;
        if (r == null || !r.isFor(index)) {
            r = RecentBucketsJson.of(buckets, index);
            recent = r;
        }
        return r;
    }

    /**
     * The earliest `last_updated` (ms) to include. A string is a UTC local date-time, rounded up to the next whole
     * millisecond so that `>=` stays exact; an integer is Unix time in seconds (the seeds' "integer").
     */
    static long sinceMillis(JsonNode value) throws Uid2ClientError {
        if (value == null || value.isNull()) {
            throw new Uid2ClientError(MISSING);
        }
        if (value.isTextual()) {
            String text = value.textValue();
            if (!LOCAL_DATE_TIME.matcher(text).matches()) {
                if (WITH_OFFSET.matcher(text).matches()) {
                    throw new Uid2ClientError(INVALID + ": since_timestamp is in UTC, no offset (e.g."
                            + " 2024-01-01T00:00:00): convert " + text + " to UTC and leave the offset out");
                }
                throw new Uid2ClientError(INVALID);
            }
            try {
                LocalDateTime t = LocalDateTime.parse(text);
                long millis = t.toEpochSecond(ZoneOffset.UTC) * 1000 + t.getNano() / 1_000_000;
                return t.getNano() % 1_000_000 == 0 ? millis : millis + 1;
            } catch (DateTimeParseException e) {
                throw new Uid2ClientError(INVALID);
            }
        }
        if (value.isIntegralNumber()) {
            if (!value.canConvertToLong() || value.longValue() >= FIRST_MILLISECONDS) {
                if (value.bigIntegerValue().signum() < 0) {
                    return 0;
                }
                throw new Uid2ClientError("invalid since_timestamp " + value.asText() + ": an integer is Unix time in"
                        + " seconds, and this many seconds is after the year 5000: send seconds (milliseconds divided by"
                        + " 1000)");
            }
            return Math.max(0, value.longValue()) * 1000;
        }
        throw new Uid2ClientError(INVALID);
    }
}
