package idex.exchange.delivery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;
import org.jdbi.v3.core.Jdbi;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The delivery log of an account: each event delivery with its status and the attempts of the message it travels
 * in, merged newest first with the partner calls of jobs ({@link JobDeliveryLog}); sending an event delivery again,
 * re-queueing the failed ones since a time, and pruning past the retention.
 * Every statement names the account, so another account's deliveries never show.
 */
public final class DeliveryLog {

    public enum Status { PENDING, DELIVERED, FAILED }

    /** One page of the log, and the `before` of the next page (null on the last). */
    public record Page(List<ObjectNode> deliveries, Long nextBefore) {
    }

    private static final int PRUNE_CHUNK = 10_000;

    private final Jdbi jdbi;
    private final JobDeliveryLog jobs;

    public DeliveryLog(Jdbi jdbi, JobDeliveryLog jobs) {
        this.jdbi = jdbi;
        this.jobs = jobs;
    }

    /**
     * Entries to `destination` (null: any) with `status` (null: any) created at or after `since`, older than
     * `before`: event deliveries and jobs' partner calls ({@link JobDeliveryLog}) in one newest-first order (their ids
     * come from one sequence). Each kind's newest `limit + 1` hold the page's whole and whether another follows.
     */
    public Page list(long accountId, Long destination, Status status, long since, Long before, int limit) {
        List<ObjectNode> merged = new ArrayList<>(events(accountId, destination, status, since, before, limit));
        merged.addAll(jobs.list(accountId, destination, status, since, before, limit + 1));
        merged.sort((a, b) -> Long.compare(b.get("deliveryId").longValue(), a.get("deliveryId").longValue()));
        if (merged.size() <= limit) {
            return new Page(merged, null);
        }
        List<ObjectNode> page = new ArrayList<>(merged.subList(0, limit));
        return new Page(page, page.get(limit - 1).get("deliveryId").longValue());
    }

    /** Up to `limit + 1` event deliveries, newest first, as {@link #list} filters them. */
    private List<ObjectNode> events(long accountId, Long destination, Status status, long since, Long before,
                                    int limit) {
        return jdbi.withHandle(h -> {
            List<ObjectNode> page = new ArrayList<>();
            Map<Long, List<ObjectNode>> byMessage = new HashMap<>();
            h.createQuery("SELECT d.delivery_id, d.event_id, d.destination_endpoint_id, e.source_endpoint_id, e.content,"
                            + " d.message_id, d.status, d.attempts, d.next_attempt, d.created, d.updated"
                            + " FROM exchange_delivery d JOIN exchange_event e ON e.event_id = d.event_id"
                            + " WHERE d.account_id = :a"
                            + " AND (CAST(:dest AS BIGINT) IS NULL OR d.destination_endpoint_id = :dest)"
                            + " AND (CAST(:status AS VARCHAR) IS NULL OR d.status = :status)"
                            + " AND d.created >= :since AND (CAST(:before AS BIGINT) IS NULL OR d.delivery_id < :before)"
                            + " ORDER BY d.delivery_id DESC LIMIT :limit")
                    .bind("a", accountId).bind("dest", destination)
                    .bind("status", status == null ? null : status.name()).bind("since", since)
                    .bind("before", before).bind("limit", limit + 1)
                    .map((rs, ctx) -> {
                        ObjectNode o = Json.object();
                        o.put("deliveryId", rs.getLong(1));
                        o.put("kind", "event");
                        o.put("endpointId", rs.getLong(3));
                        o.put("eventId", rs.getLong(2));
                        o.put("destinationEndpointId", rs.getLong(3));
                        o.put("sourceEndpointId", rs.getLong(4));
                        o.set("code", Json.readStored(rs.getString(5)).get("code"));
                        long message = rs.getLong(6);
                        o.put("webhookId", rs.wasNull() ? null : "msg_" + message);
                        o.put("status", rs.getString(7));
                        o.put("attemptCount", rs.getInt(8));
                        if ("PENDING".equals(rs.getString(7))) {
                            o.put("nextAttempt", rs.getLong(9));
                        }
                        o.put("created", rs.getLong(10));
                        o.put("updated", rs.getLong(11));
                        o.putArray("attempts");
                        if (!o.path("webhookId").isNull()) {
                            byMessage.computeIfAbsent(message, m -> new ArrayList<>()).add(o);
                        }
                        return o;
                    })
                    .forEach(page::add);
            if (!byMessage.isEmpty()) {
                h.createQuery("SELECT a.message_id, a.attempt, a.at, a.http_status, a.error, a.duration_ms"
                                + " FROM exchange_delivery_attempt a JOIN UNNEST(:m) AS t(m) ON a.message_id = t.m"
                                + " ORDER BY a.message_id, a.attempt")
                        .bind("m", byMessage.keySet().toArray(new Long[0]))
                        .map((rs, ctx) -> Map.entry(rs.getLong(1), attempt(rs)))
                        .forEach(e -> byMessage.getOrDefault(e.getKey(), List.of())
                                .forEach(o -> ((ArrayNode) o.get("attempts")).add(e.getValue().deepCopy())));
            }
            return page;
        });
    }

    /**
     * An attempt as the log shows it, from a row whose columns 2 to 6 are its number, time, HTTP status (null: no
     * answer), error and duration: the one shape of attempts of every kind.
     */
    static ObjectNode attempt(ResultSet rs) throws SQLException {
        ObjectNode a = Json.object();
        a.put("attempt", rs.getInt(2));
        a.put("at", rs.getLong(3));
        int http = rs.getInt(4);
        a.put("httpStatus", rs.wasNull() ? null : http);
        a.put("error", rs.getString(5));
        a.put("durationMs", rs.getInt(6));
        return a;
    }

    /** The destination of one of the account's deliveries, if it has it. */
    public Optional<Long> destinationOf(long accountId, long deliveryId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT destination_endpoint_id FROM exchange_delivery"
                        + " WHERE account_id = :a AND delivery_id = :id")
                .bind("a", accountId).bind("id", deliveryId).mapTo(Long.class).findOne());
    }

    /**
     * Queues a delivery to be sent again now, whatever its status, with the message it travels in (the same
     * `webhook-id`, so a receiver that has it can drop it) and a fresh retry schedule. A message whose attempt is
     * in flight is not sent a second time at once: it gets the fresh schedule, and that attempt's outcome decides.
     * Answers how many deliveries that message carries (0: no such delivery in the account).
     */
    public int retry(long accountId, long deliveryId, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_delivery SET status = 'PENDING',"
                        + " next_attempt = CASE WHEN leased_until > :now THEN next_attempt ELSE :now END,"
                        + " attempts_before = attempts, updated = :now WHERE account_id = :a AND (delivery_id = :id"
                        + " OR message_id = (SELECT message_id FROM exchange_delivery WHERE account_id = :a"
                        + " AND delivery_id = :id))")
                .bind("a", accountId).bind("id", deliveryId).bind("now", now).execute());
    }

    /** Queues again every FAILED delivery to `destination` created at or after `since`; answers how many. */
    public int recover(long accountId, long destination, long since, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_delivery SET status = 'PENDING', next_attempt = :now,"
                        + " attempts_before = attempts, updated = :now WHERE account_id = :a"
                        + " AND destination_endpoint_id = :d AND status = 'FAILED' AND created >= :since")
                .bind("a", accountId).bind("d", destination).bind("since", since).bind("now", now).execute());
    }

    /**
     * Deletes finished deliveries last changed before `cutoff`, then the events and attempts nothing refers to any
     * more, in chunks (a week of a busy exchange is millions of rows; one statement would hold them all at once).
     */
    public int prune(long cutoff) {
        int total = 0;
        for (int n; (n = jdbi.withHandle(h -> h.createUpdate("DELETE FROM exchange_delivery WHERE delivery_id IN"
                        + " (SELECT delivery_id FROM exchange_delivery WHERE status <> 'PENDING' AND updated < :cutoff"
                        + " LIMIT :chunk)")
                .bind("cutoff", cutoff).bind("chunk", PRUNE_CHUNK).execute())) > 0; ) {
            total += n;
        }
        for (int n; (n = jdbi.withHandle(h -> h.createUpdate("DELETE FROM exchange_event WHERE event_id IN"
                        + " (SELECT e.event_id FROM exchange_event e WHERE e.accepted < :cutoff AND NOT EXISTS"
                        + " (SELECT 1 FROM exchange_delivery d WHERE d.event_id = e.event_id) LIMIT :chunk)")
                .bind("cutoff", cutoff).bind("chunk", PRUNE_CHUNK).execute())) > 0; ) {
            // events whose deliveries are all gone
        }
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM exchange_delivery_attempt a WHERE a.at < :cutoff AND NOT EXISTS"
                        + " (SELECT 1 FROM exchange_delivery d WHERE d.message_id = a.message_id)")
                .bind("cutoff", cutoff).execute());
        return total;
    }
}
