package idex.exchange.delivery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The partner calls of jobs in the delivery log (exchange_job_delivery): one entry per thing a job delivers or
 * fetches — a push export's segment lookup and each of its files, a pull producer's job and each of its data files —
 * with the attempts made at it. Entry ids come from the sequence of event deliveries, so one id names one entry and
 * the whole log has one order. Every read names the account.
 */
public final class JobDeliveryLog {

    /** What an entry is about. */
    public enum Kind {
        segmentLookup, segmentFile, pullJob, pullFile
    }

    /** The thing delivered or fetched: its job and partner, its kind, its file ('' for none), its webhook-id. */
    public record Item(long accountId, long endpointId, long jobId, Kind kind, String name, String webhookId) {

        public Item {
            name = name == null ? "" : name;
        }
    }

    /** One request (or step) to a partner: when it started, the HTTP status if any, the error (null: it worked). */
    public record Call(long at, Integer httpStatus, String error, int durationMs) {

        public boolean ok() {
            return error == null;
        }
    }

    /** An entry as retry sees it. */
    public record Entry(long deliveryId, long accountId, long endpointId, long jobId, Kind kind, String name,
                        DeliveryLog.Status status) {
    }

    private final Jdbi jdbi;

    public JobDeliveryLog(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * Records one attempt at `item`: the entry (made at its first attempt) is DELIVERED after a call that worked,
     * PENDING after one that failed (a retry follows, or {@link #failPending} says there is none).
     */
    public void attempted(Item item, Call call) {
        recorded(item, call, call.ok() ? DeliveryLog.Status.DELIVERED : DeliveryLog.Status.PENDING);
    }

    /** As {@link #attempted}, with the status the caller knows the entry has after this attempt. */
    public void recorded(Item item, Call call, DeliveryLog.Status status) {
        jdbi.useTransaction(h -> {
            long[] entry = h.createQuery("INSERT INTO exchange_job_delivery (delivery_id, account_id, endpoint_id,"
                            + " job_id, kind, item, webhook_id, status, attempts, created, updated)"
                            + " VALUES (nextval('exchange_delivery_seq'), :a, :e, :j, :kind, :item, :w, :s, 1, :at, :at)"
                            + " ON CONFLICT (job_id, kind, item) DO UPDATE SET status = :s, webhook_id = :w,"
                            + " attempts = exchange_job_delivery.attempts + 1, updated = :at"
                            + " RETURNING delivery_id, attempts")
                    .bind("a", item.accountId()).bind("e", item.endpointId()).bind("j", item.jobId())
                    .bind("kind", item.kind().name()).bind("item", clip(item.name(), 256))
                    .bind("w", item.webhookId()).bind("s", status.name()).bind("at", call.at())
                    .map((rs, ctx) -> new long[]{rs.getLong(1), rs.getLong(2)}).one();
            h.createUpdate("INSERT INTO exchange_job_delivery_attempt (delivery_id, attempt, at, http_status, error,"
                            + " duration_ms) VALUES (:d, :n, :at, :http, :error, :ms) ON CONFLICT DO NOTHING")
                    .bind("d", entry[0]).bind("n", (int) entry[1]).bind("at", call.at()).bind("http", call.httpStatus())
                    .bind("error", call.error() == null ? null : clip(call.error(), 1000))
                    .bind("ms", Math.max(0, call.durationMs())).execute();
        });
    }

    /** The job's entries still PENDING are FAILED: it gave up (last retry, timeout, a refusal). */
    public void failPending(long jobId, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_job_delivery SET status = 'FAILED', updated = :now"
                + " WHERE job_id = :j AND status = 'PENDING'").bind("j", jobId).bind("now", now).execute());
    }

    /** The job's FAILED entries are PENDING again: its delivery was re-opened. */
    public void reopen(long jobId, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_job_delivery SET status = 'PENDING', updated = :now"
                + " WHERE job_id = :j AND status = 'FAILED'").bind("j", jobId).bind("now", now).execute());
    }

    /** One of the account's entries, if it has it. */
    public Optional<Entry> find(long accountId, long deliveryId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT delivery_id, account_id, endpoint_id, job_id, kind, item,"
                        + " status FROM exchange_job_delivery WHERE account_id = :a AND delivery_id = :id")
                .bind("a", accountId).bind("id", deliveryId)
                .map((rs, ctx) -> new Entry(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                        Kind.valueOf(rs.getString(5)), rs.getString(6), DeliveryLog.Status.valueOf(rs.getString(7))))
                .findOne());
    }

    /**
     * Up to `limit` entries of the account, newest first, as {@link DeliveryLog#list} filters them. A PENDING entry's
     * `nextAttempt` is when its job calls the partner next (null while its push destination is turned off).
     */
    List<ObjectNode> list(long accountId, Long endpoint, DeliveryLog.Status status, long since, Long before,
                          int limit) {
        return jdbi.withHandle(h -> {
            Map<Long, ObjectNode> byId = new HashMap<>();
            List<ObjectNode> page = new ArrayList<>();
            h.createQuery("SELECT d.delivery_id, d.kind, d.job_id, d.endpoint_id, d.item, d.webhook_id, d.status,"
                            + " d.attempts, CASE WHEN d.kind LIKE 'pull%' THEN p.next_poll ELSE j.next_attempt END,"
                            + " d.created, d.updated"
                            + " FROM exchange_job_delivery d JOIN exchange_job j ON j.job_id = d.job_id"
                            + " LEFT JOIN exchange_job_pull p ON p.job_id = d.job_id"
                            + " WHERE d.account_id = :a"
                            + " AND (CAST(:dest AS BIGINT) IS NULL OR d.endpoint_id = :dest)"
                            + " AND (CAST(:status AS VARCHAR) IS NULL OR d.status = :status)"
                            + " AND d.created >= :since AND (CAST(:before AS BIGINT) IS NULL OR d.delivery_id < :before)"
                            + " ORDER BY d.delivery_id DESC LIMIT :limit")
                    .bind("a", accountId).bind("dest", endpoint)
                    .bind("status", status == null ? null : status.name()).bind("since", since)
                    .bind("before", before).bind("limit", limit)
                    .map((rs, ctx) -> {
                        ObjectNode o = Json.object();
                        o.put("deliveryId", rs.getLong(1));
                        o.put("kind", rs.getString(2));
                        o.put("jobId", rs.getLong(3));
                        o.put("endpointId", rs.getLong(4));
                        String item = rs.getString(5);
                        if (!item.isEmpty()) {
                            o.put("fileName", item);
                        }
                        o.put("webhookId", rs.getString(6));
                        o.put("status", rs.getString(7));
                        o.put("attemptCount", rs.getInt(8));
                        if ("PENDING".equals(rs.getString(7))) {
                            long next = rs.getLong(9);
                            o.put("nextAttempt", rs.wasNull() ? null : next);
                        }
                        o.put("created", rs.getLong(10));
                        o.put("updated", rs.getLong(11));
                        o.putArray("attempts");
                        byId.put(rs.getLong(1), o);
                        return o;
                    })
                    .forEach(page::add);
            if (!byId.isEmpty()) {
                h.createQuery("SELECT a.delivery_id, a.attempt, a.at, a.http_status, a.error, a.duration_ms"
                                + " FROM exchange_job_delivery_attempt a JOIN UNNEST(:ids) AS t(id) ON a.delivery_id = t.id"
                                + " ORDER BY a.delivery_id, a.attempt")
                        .bind("ids", byId.keySet().toArray(new Long[0]))
                        .map((rs, ctx) -> Map.entry(rs.getLong(1), DeliveryLog.attempt(rs)))
                        .forEach(e -> ((ArrayNode) byId.get(e.getKey()).get("attempts")).add(e.getValue()));
            }
            return page;
        });
    }

    /**
     * Deletes finished entries last changed before `cutoff` (their attempts go with them), and answers the push
     * exports that ended in ERROR before `cutoff` whose undelivered files were kept for a retry: their files are no
     * longer listed (so they can no longer be retried) and the caller deletes them from disk.
     */
    public List<Long> prune(long cutoff) {
        return jdbi.inTransaction(h -> {
            h.createUpdate("DELETE FROM exchange_job_delivery WHERE status <> 'PENDING' AND updated < :cutoff")
                    .bind("cutoff", cutoff).execute();
            return h.createQuery("DELETE FROM exchange_push_file f USING exchange_job j WHERE j.job_id = f.job_id"
                            + " AND j.status = 'ERROR' AND j.ended < :cutoff AND f.delivered IS NULL"
                            + " RETURNING f.job_id")
                    .bind("cutoff", cutoff).mapTo(Long.class).stream().distinct().toList();
        });
    }

    private static String clip(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 3) + "...";
    }
}
