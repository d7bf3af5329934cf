package idex.exchange.segments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;
import idex.json.Json;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Producers' segment catalogs. Every statement names the account as well as the endpoint, so that another account's
 * catalog is never read or changed even if an endpoint id were wrongly trusted. Each write locks the endpoint's row
 * first: writers of one catalog run one after the other (on every node sharing the database), so what a write
 * checked (ids taken, the size bound) still holds when it writes.
 */
public final class SegmentCatalogStore {

    private static final RowMapper<Segment> MAPPER = (rs, ctx) -> new Segment(rs.getString("segment_id"),
            rs.getString("name"), rs.getString("description"), attributes(rs.getString("segment_attributes")));

    private final Jdbi jdbi;

    public SegmentCatalogStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** The endpoint's catalog in the order its segments were added (empty when it has none). */
    public List<Segment> list(long accountId, long endpointId) {
        return jdbi.withHandle(h -> list(h, accountId, endpointId));
    }

    /** When the catalog was last written (a partner's catalog: when it was fetched); empty if it never was. */
    public Optional<Long> updated(long accountId, long endpointId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT updated FROM exchange_segment_catalog"
                        + " WHERE account_id = :a AND endpoint_id = :e")
                .bind("a", accountId).bind("e", endpointId).mapTo(Long.class).findOne());
    }

    /**
     * Adds segments whose ids the catalog does not hold yet (409 naming those it holds; 400 past the size bound);
     * answers the whole catalog.
     */
    public List<Segment> add(long accountId, long endpointId, List<Segment> added, long now) {
        return jdbi.inTransaction(h -> {
            lockEndpoint(h, accountId, endpointId);
            List<Segment> existing = list(h, accountId, endpointId);
            Set<String> held = existing.stream().map(Segment::id).collect(Collectors.toSet());
            List<String> taken = added.stream().map(Segment::id).filter(held::contains).toList();
            if (!taken.isEmpty()) {
                throw Refusal.conflict("Endpoint " + endpointId + "'s catalog already has segment " + quoted(taken)
                        + ": replace the catalog with PUT, remove " + (taken.size() == 1 ? "it" : "them")
                        + " first with DELETE …/segments/{segmentId}, or leave " + (taken.size() == 1 ? "it" : "them")
                        + " out. Nothing was added.");
            }
            if (existing.size() + added.size() > RequestedSegments.MAX_SEGMENTS) {
                throw Refusal.invalid("Endpoint " + endpointId + "'s catalog holds " + existing.size() + " segments;"
                        + " adding " + added.size() + " would pass the bound of " + RequestedSegments.MAX_SEGMENTS
                        + ". Nothing was added.");
            }
            touch(h, accountId, endpointId, CatalogSource.ENDPOINT, now);
            insert(h, accountId, endpointId, added, nextPosition(h, endpointId));
            return list(h, accountId, endpointId);
        });
    }

    /**
     * Replaces the whole catalog (an empty list clears it): what `PUT` and `DELETE` of a push producer's segments do,
     * and how a pull producer's fetched catalog is saved ({@link CatalogSource#PARTNER}). Answers it as stored.
     */
    public List<Segment> replace(long accountId, long endpointId, List<Segment> segments, CatalogSource source,
                                 long now) {
        return jdbi.inTransaction(h -> {
            lockEndpoint(h, accountId, endpointId);
            h.createUpdate("DELETE FROM exchange_segment WHERE account_id = :a AND endpoint_id = :e")
                    .bind("a", accountId).bind("e", endpointId).execute();
            touch(h, accountId, endpointId, source, now);
            insert(h, accountId, endpointId, segments, 0);
            return list(h, accountId, endpointId);
        });
    }

    /** Removes one segment; empty when the catalog has no segment of that id, else the catalog left. */
    public Optional<List<Segment>> remove(long accountId, long endpointId, String segmentId, long now) {
        return jdbi.inTransaction(h -> {
            lockEndpoint(h, accountId, endpointId);
            int removed = h.createUpdate("DELETE FROM exchange_segment WHERE account_id = :a AND endpoint_id = :e"
                            + " AND segment_id = :s")
                    .bind("a", accountId).bind("e", endpointId).bind("s", segmentId).execute();
            if (removed == 0) {
                return Optional.empty();
            }
            touch(h, accountId, endpointId, CatalogSource.ENDPOINT, now);
            return Optional.of(list(h, accountId, endpointId));
        });
    }

    private static void lockEndpoint(Handle h, long accountId, long endpointId) {
        if (h.createQuery("SELECT endpoint_id FROM exchange_endpoint WHERE endpoint_id = :e AND account_id = :a FOR UPDATE")
                .bind("e", endpointId).bind("a", accountId).mapTo(Long.class).findOne().isEmpty()) {
            throw Refusal.notFound("There is no endpoint " + endpointId + " in this account.");
        }
    }

    private static void touch(Handle h, long accountId, long endpointId, CatalogSource source, long now) {
        h.createUpdate("INSERT INTO exchange_segment_catalog (endpoint_id, account_id, source, updated)"
                        + " VALUES (:e, :a, :s, :t) ON CONFLICT (endpoint_id) DO UPDATE SET source = :s, updated = :t")
                .bind("e", endpointId).bind("a", accountId).bind("s", source.name()).bind("t", now).execute();
    }

    private static int nextPosition(Handle h, long endpointId) {
        return h.createQuery("SELECT COALESCE(MAX(position) + 1, 0) FROM exchange_segment WHERE endpoint_id = :e")
                .bind("e", endpointId).mapTo(Integer.class).one();
    }

    private static void insert(Handle h, long accountId, long endpointId, List<Segment> segments, int firstPosition) {
        if (segments.isEmpty()) {
            return;
        }
        PreparedBatch insert = h.prepareBatch("INSERT INTO exchange_segment (endpoint_id, account_id, segment_id,"
                + " position, name, description, segment_attributes) VALUES (:e, :a, :s, :p, :n, :d, :x)");
        int position = firstPosition;
        for (Segment s : segments) {
            insert.bind("e", endpointId).bind("a", accountId).bind("s", s.id()).bind("p", position++)
                    .bind("n", s.name()).bind("d", s.description()).bind("x", Json.write(s.attributesJson())).add();
        }
        insert.execute();
    }

    private static List<Segment> list(Handle h, long accountId, long endpointId) {
        return h.createQuery("SELECT segment_id, name, description, segment_attributes FROM exchange_segment"
                        + " WHERE account_id = :a AND endpoint_id = :e ORDER BY position")
                .bind("a", accountId).bind("e", endpointId).map(MAPPER).list();
    }

    private static List<SegmentAttribute> attributes(String json) {
        try {
            List<SegmentAttribute> list = new ArrayList<>();
            for (JsonNode a : Json.MAPPER.readTree(json)) {
                list.add(new SegmentAttribute(a.path("name").asText(), a.path("type").asText()));
            }
            return list;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String quoted(List<String> ids) {
        return ids.stream().map(i -> "\"" + i + "\"").collect(Collectors.joining(", "));
    }
}
