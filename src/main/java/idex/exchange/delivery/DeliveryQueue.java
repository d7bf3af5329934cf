package idex.exchange.delivery;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The pending deliveries in the store, as the delivery engine works them: which destinations have some, claiming a
 * destination's due messages (with a lease, so that a node that dies mid-attempt leaves them due again), and
 * recording attempts. Claims use `FOR UPDATE SKIP LOCKED`, so nodes sharing the store never send a message twice
 * at once.
 * <p>
 * Its store is a pool of the engine's own whose sessions commit without waiting for the WAL flush
 * (`synchronous_commit` off: {@link idex.store.Database#separatePool}): what a crash can lose of a claim or a record
 * is a lease (the message is due again at once) or an outcome (the message is sent again, with its webhook-id) — at
 * least once either way — and a flush per step was most of a delivery's latency. The deliveries themselves are
 * written with the event, durably, on the server's pool.
 */
public final class DeliveryQueue {

    /** A destination with pending deliveries, and when the earliest of them is due. */
    public record Pending(long destinationEndpointId, long earliestDue) {
    }

    /** What recording attempts changed: destinations now failing for longer than allowed. */
    public record Recorded(Set<Long> failingTooLong) {
    }

    /** How often a delivered destination's failure streak is cleared when this node saw no failure of it. */
    private static final long CLEAR_EVERY_MS = 1_000;

    private final Jdbi jdbi;
    /** When each destination's streak was last cleared here; {@link #record} runs on one thread (the recorder). */
    private final Map<Long, Long> lastCleared = new HashMap<>();

    public DeliveryQueue(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * Every destination with pending deliveries: one index probe per destination (a loose index scan), however
     * many deliveries wait, so that a million queued for a dead destination cost nothing here.
     */
    public List<Pending> pending() {
        return jdbi.withHandle(h -> h.createQuery("WITH RECURSIVE d(id) AS ("
                        + " (SELECT destination_endpoint_id FROM exchange_delivery WHERE status = 'PENDING'"
                        + " ORDER BY destination_endpoint_id LIMIT 1)"
                        + " UNION ALL SELECT (SELECT destination_endpoint_id FROM exchange_delivery WHERE status = 'PENDING'"
                        + " AND destination_endpoint_id > d.id ORDER BY destination_endpoint_id LIMIT 1) FROM d"
                        + " WHERE d.id IS NOT NULL)"
                        + " SELECT id, (SELECT MIN(next_attempt) FROM exchange_delivery WHERE status = 'PENDING'"
                        + " AND destination_endpoint_id = d.id) FROM d WHERE id IS NOT NULL")
                .map((rs, ctx) -> new Pending(rs.getLong(1), rs.getLong(2))).list());
    }

    /**
     * Claims up to `messages` due messages of a destination until `leaseUntil`. Deliveries never sent are grouped
     * into new messages of up to `batchSize`; a message sent before comes whole, as it was.
     */
    public List<Message> claim(long destination, int messages, int batchSize, long now, long leaseUntil) {
        return jdbi.inTransaction(h -> {
            int limit = messages * batchSize;
            List<Row> rows = h.createQuery("SELECT delivery_id, account_id, message_id, attempts, attempts_before"
                            + " FROM exchange_delivery WHERE status = 'PENDING' AND destination_endpoint_id = :d"
                            + " AND next_attempt <= :now ORDER BY next_attempt, COALESCE(message_id, delivery_id),"
                            + " delivery_id LIMIT :limit FOR UPDATE SKIP LOCKED")
                    .bind("d", destination).bind("now", now).bind("limit", limit)
                    .map((rs, ctx) -> new Row(rs.getLong(1), rs.getLong(2), (Long) rs.getObject(3), rs.getInt(4),
                            rs.getInt(5)))
                    .list();
            if (rows.isEmpty()) {
                return List.of();
            }
            Map<Long, List<Row>> groups = new LinkedHashMap<>();
            List<Row> fresh = new ArrayList<>();
            for (Row r : rows) {
                if (r.messageId() == null) {
                    fresh.add(r);
                } else {
                    groups.computeIfAbsent(r.messageId(), m -> new ArrayList<>()).add(r);
                }
            }
            if (rows.size() == limit && rows.get(rows.size() - 1).messageId() != null) {
                completeLastMessage(h, rows.get(rows.size() - 1).messageId(), groups);
            }
            List<Message> claimed = new ArrayList<>();
            for (List<Row> group : groups.values()) {
                if (claimed.size() == messages) {
                    break;
                }
                claimed.add(message(group.get(0).messageId(), destination, group));
            }
            // A new message is named after its first delivery; a message of one delivery is named by the lease's
            // own update (one statement less a claim: one event a request is the default).
            PreparedBatch name = h.prepareBatch("UPDATE exchange_delivery SET message_id = :m WHERE delivery_id = :id");
            boolean named = false;
            for (int from = 0; from < fresh.size() && claimed.size() < messages; from += batchSize) {
                List<Row> group = fresh.subList(from, Math.min(fresh.size(), from + batchSize));
                long messageId = group.get(0).deliveryId();
                if (group.size() > 1) {
                    for (Row r : group) {
                        name.bind("m", messageId).bind("id", r.deliveryId()).add();
                        named = true;
                    }
                }
                claimed.add(message(messageId, destination, group));
            }
            if (named) {
                name.execute();
            }
            Long[] ids = claimed.stream().flatMap(m -> m.deliveryIds().stream()).toArray(Long[]::new);
            h.createUpdate("UPDATE exchange_delivery SET next_attempt = :lease, leased_until = :lease,"
                            + " message_id = COALESCE(message_id, delivery_id) WHERE delivery_id = ANY(:ids)")
                    .bind("lease", leaseUntil).bind("ids", ids).execute();
            return claimed;
        });
    }

    /** The members of the claim's last message that its row limit cut off. */
    private static void completeLastMessage(Handle h, long messageId, Map<Long, List<Row>> groups) {
        List<Row> group = groups.get(messageId);
        Set<Long> have = new HashSet<>();
        group.forEach(r -> have.add(r.deliveryId()));
        h.createQuery("SELECT delivery_id, account_id, message_id, attempts, attempts_before FROM exchange_delivery"
                        + " WHERE message_id = :m AND status = 'PENDING' ORDER BY delivery_id FOR UPDATE SKIP LOCKED")
                .bind("m", messageId)
                .map((rs, ctx) -> new Row(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getInt(4), rs.getInt(5)))
                .forEach(r -> {
                    if (have.add(r.deliveryId())) {
                        group.add(r);
                    }
                });
    }

    private static Message message(long messageId, long destination, List<Row> group) {
        Row first = group.get(0);
        return new Message(messageId, first.accountId(), destination, group.stream().map(Row::deliveryId).toList(),
                first.attempts(), first.attemptsBefore());
    }

    private record Row(long deliveryId, long accountId, Long messageId, int attempts, int attemptsBefore) {
    }

    /**
     * Records attempts, in one transaction: a delivered message is DELIVERED; a failed one is due again after the
     * schedule's next step (or sooner, as a `Retry-After` asks), or FAILED after its last attempt. A destination's
     * failure streak starts at its first failed attempt and ends at its first delivered one.
     */
    public Recorded record(List<Attempt> attempts, List<Duration> schedule, Duration disableAfter) {
        if (attempts.isEmpty()) {
            return new Recorded(Set.of());
        }
        Map<Long, Long> cleared = new HashMap<>();
        Recorded recorded = jdbi.inTransaction(h -> {
            PreparedBatch log = h.prepareBatch("INSERT INTO exchange_delivery_attempt (message_id, attempt, at,"
                    + " http_status, error, duration_ms) VALUES (:m, :n, :at, :status, :error, :ms)"
                    + " ON CONFLICT DO NOTHING");
            PreparedBatch outcome = h.prepareBatch("UPDATE exchange_delivery SET status = :status, attempts = :n,"
                    + " next_attempt = :next, leased_until = NULL, updated = :at WHERE delivery_id = ANY(:ids)"
                    + " AND status = 'PENDING'");
            Map<Long, Long> firstFailure = new LinkedHashMap<>();
            Set<Long> delivered = new HashSet<>();
            for (Attempt a : attempts) {
                Message m = a.message();
                int n = m.attempts() + 1;
                log.bind("m", m.messageId()).bind("n", n).bind("at", a.at()).bind("status", a.httpStatus())
                        .bind("error", a.error() == null ? null : shorten(a.error())).bind("ms", a.durationMs()).add();
                String status;
                long next = a.at();
                if (a.delivered()) {
                    status = "DELIVERED";
                    delivered.add(m.destinationEndpointId());
                } else {
                    // The retry that follows this attempt, counted from the last time it was queued by hand.
                    OptionalLong wait = DeliverySettings.retryWait(schedule, n - m.attemptsBefore() - 1,
                            a.retryAfterMs());
                    status = wait.isPresent() ? "PENDING" : "FAILED";
                    next = a.at() + wait.orElse(0);
                    firstFailure.merge(m.destinationEndpointId(), a.at(), Math::min);
                }
                outcome.bind("status", status).bind("n", n).bind("next", next).bind("at", a.at())
                        .bind("ids", m.deliveryIds().toArray(new Long[0])).add();
            }
            log.execute();
            outcome.execute();
            Set<Long> failingTooLong = new HashSet<>();
            // A delivery ends the destination's failure streak: cleared at once after a failure seen here, else at
            // most once a second (another node's failures may have started one), not with every batch.
            long now = attempts.get(attempts.size() - 1).at();
            firstFailure.keySet().forEach(lastCleared::remove); // their next delivery clears the streak at once
            Long[] clear = delivered.stream()
                    .filter(d -> lastCleared.getOrDefault(d, Long.MIN_VALUE) + CLEAR_EVERY_MS <= now)
                    .toArray(Long[]::new);
            if (clear.length > 0) {
                h.createUpdate("UPDATE exchange_event_destination SET failing_since = NULL"
                                + " WHERE endpoint_id = ANY(:d) AND failing_since IS NOT NULL")
                        .bind("d", clear).execute();
                for (Long d : clear) {
                    cleared.put(d, now);
                }
            }
            for (Map.Entry<Long, Long> f : firstFailure.entrySet()) {
                if (delivered.contains(f.getKey())) {
                    continue; // not every attempt failed
                }
                h.createUpdate("UPDATE exchange_event_destination SET failing_since = :at WHERE endpoint_id = :d"
                        + " AND failing_since IS NULL").bind("d", f.getKey()).bind("at", f.getValue()).execute();
                long latest = attempts.stream().filter(a -> a.message().destinationEndpointId() == f.getKey())
                        .mapToLong(Attempt::at).max().orElse(f.getValue());
                h.createQuery("SELECT failing_since FROM exchange_event_destination WHERE endpoint_id = :d")
                        .bind("d", f.getKey()).mapTo(Long.class).findOne()
                        .filter(since -> latest - since >= disableAfter.toMillis())
                        .ifPresent(since -> failingTooLong.add(f.getKey()));
            }
            return new Recorded(failingTooLong);
        });
        lastCleared.putAll(cleared); // once committed
        return recorded;
    }

    private static String shorten(String error) {
        return error.length() <= 1000 ? error : error.substring(0, 997) + "...";
    }
}
