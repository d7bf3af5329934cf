package idex.exchange.subscriptions;

import idex.errors.Refusal;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;

/** The declared event types. Every statement names the account, so another account's rows are never touched. */
public final class EventTypeStore {

    private static final RowMapper<EventType> MAPPER = (rs, ctx) -> new EventType(rs.getLong("endpoint_id"),
            rs.getString("code"), rs.getString("name"), rs.getString("description"), rs.getLong("created"));

    private final Jdbi jdbi;

    public EventTypeStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * Declares a code for the endpoint; 409 when the endpoint has declared it already (the primary key decides, so
     * two concurrent declarations cannot both succeed).
     */
    EventType declare(long accountId, long endpointId, RequestedEventType type, long now) {
        int inserted = jdbi.withHandle(h -> h.createUpdate("INSERT INTO exchange_event_type (account_id, endpoint_id,"
                        + " code, name, description, created) VALUES (:a, :e, :c, :n, :d, :t) ON CONFLICT DO NOTHING")
                .bind("a", accountId).bind("e", endpointId).bind("c", type.code()).bind("n", type.name())
                .bind("d", type.description()).bind("t", now).execute());
        if (inserted == 0) {
            throw Refusal.conflict("Endpoint " + endpointId + " has already declared event code \"" + type.code()
                    + "\": GET /v1/eventtype lists it. Nothing was changed.");
        }
        return new EventType(endpointId, type.code(), type.name(), type.description(), now);
    }

    /** The account's event types, or one endpoint's (`endpointId` not null), by endpoint then in declaration order. */
    List<EventType> list(long accountId, Long endpointId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT endpoint_id, code, name, description, created"
                        + " FROM exchange_event_type WHERE account_id = :a"
                        + " AND (CAST(:e AS BIGINT) IS NULL OR endpoint_id = :e)"
                        + " ORDER BY endpoint_id, created, code")
                .bind("a", accountId).bind("e", endpointId).map(MAPPER).list());
    }
}
