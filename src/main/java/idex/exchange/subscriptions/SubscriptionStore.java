package idex.exchange.subscriptions;

import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;
import java.util.Optional;

/** The event subscriptions. Every statement names the account, so another account's rows are never touched. */
public final class SubscriptionStore {

    private static final String COLUMNS = "subscription_id, destination_endpoint_id, source_endpoint_id, event_codes,"
            + " created";
    private static final RowMapper<Subscription> MAPPER = (rs, ctx) -> new Subscription(rs.getLong("subscription_id"),
            rs.getLong("destination_endpoint_id"), (Long) rs.getObject("source_endpoint_id"),
            List.of((String[]) rs.getArray("event_codes").getArray()), rs.getLong("created"));

    private final Jdbi jdbi;

    public SubscriptionStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    Subscription create(long accountId, RequestedSubscription r, long now) {
        return jdbi.withHandle(h -> {
            long id = h.createQuery("SELECT nextval('exchange_subscription_seq')").mapTo(Long.class).one();
            h.createUpdate("INSERT INTO exchange_event_subscription (subscription_id, account_id, destination_endpoint_id,"
                            + " source_endpoint_id, event_codes, created) VALUES (:id, :a, :d, :s, :c, :t)")
                    .bind("id", id).bind("a", accountId).bind("d", r.destinationEndpointId())
                    .bind("s", r.sourceEndpointId()).bind("c", r.eventCodes().toArray(new String[0])).bind("t", now)
                    .execute();
            return new Subscription(id, r.destinationEndpointId(), r.sourceEndpointId(), r.eventCodes(), now);
        });
    }

    /** The account's subscriptions, or those `endpointId` receives or is the named source of; oldest first. */
    List<Subscription> list(long accountId, Long endpointId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_event_subscription"
                        + " WHERE account_id = :a AND (CAST(:e AS BIGINT) IS NULL OR destination_endpoint_id = :e"
                        + " OR source_endpoint_id = :e) ORDER BY subscription_id")
                .bind("a", accountId).bind("e", endpointId).map(MAPPER).list());
    }

    Optional<Subscription> find(long accountId, long subscriptionId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_event_subscription"
                        + " WHERE account_id = :a AND subscription_id = :id")
                .bind("a", accountId).bind("id", subscriptionId).map(MAPPER).findOne());
    }

    /** False when the account has no such subscription (any more). */
    boolean delete(long accountId, long subscriptionId) {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM exchange_event_subscription WHERE account_id = :a"
                        + " AND subscription_id = :id")
                .bind("a", accountId).bind("id", subscriptionId).execute()) > 0;
    }
}
