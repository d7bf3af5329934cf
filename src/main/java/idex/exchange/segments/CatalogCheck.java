package idex.exchange.segments;

import idex.errors.Refusal;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Job creation's check of the segment a job names against its producer's catalog. A producer that has published no
 * catalog accepts any segment id (and none), as before catalogs existed; once it has one, a job names one of its ids.
 */
public final class CatalogCheck {

    /** Known ids listed in a refusal: enough to pick from, short enough to read. */
    private static final int LISTED = 50;

    private final SegmentCatalogStore store;

    public CatalogCheck(SegmentCatalogStore store) {
        this.store = store;
    }

    /**
     * 400 naming the known ids when `segmentId` (the job's producerSegmentIDString, else its producerSegmentID) is not
     * in the producer's non-empty catalog, or is null where `mustName` (a segment export: it shares one segment).
     */
    public void requireListed(long accountId, long producerEndpointId, String segmentId, boolean mustName) {
        if (segmentId == null && !mustName) {
            return;
        }
        List<String> ids = store.list(accountId, producerEndpointId).stream().map(Segment::id).toList();
        if (ids.isEmpty() || ids.contains(segmentId)) {
            return;
        }
        String known = ids.stream().limit(LISTED).map(i -> "\"" + i + "\"").collect(Collectors.joining(", "))
                + (ids.size() > LISTED ? " and " + (ids.size() - LISTED) + " more (GET /v1/endpoint/"
                + producerEndpointId + "/segments lists them)" : "");
        throw Refusal.invalid((segmentId == null ? "The job names no producerSegmentID"
                : "producerSegmentID \"" + segmentId + "\" is not in the segment catalog")
                + " of endpoint " + producerEndpointId + ": name one of its segments: " + known + ".");
    }
}
