package idex.exchange.filters;

import idex.errors.Refusal;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The identity filters of endpoints. Every statement names the account as well as the endpoint, so that a filter
 * of another account cannot be read or changed even if an endpoint id were wrongly trusted. Adding and replacing
 * act on a whole request in one transaction: all filters or none.
 */
public final class IdentityFilterStore {

    private static final String COLUMNS = "filter_id, endpoint_id, identifier_name, publish_filter, subscribe_filter";
    private static final RowMapper<IdentityFilter> MAPPER = (rs, ctx) -> new IdentityFilter(rs.getLong("filter_id"),
            rs.getLong("endpoint_id"), rs.getString("identifier_name"), rs.getBoolean("publish_filter"),
            rs.getBoolean("subscribe_filter"));

    private final Jdbi jdbi;

    public IdentityFilterStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** The endpoint's filters, oldest first (the database's collation of names differs between H2 and PostgreSQL). */
    public List<IdentityFilter> list(long accountId, long endpointId) {
        return jdbi.withHandle(h -> list(h, accountId, endpointId));
    }

    public Optional<IdentityFilter> find(long accountId, long endpointId, String identifierName) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_identity_filter"
                        + " WHERE account_id = :a AND endpoint_id = :e AND identifier_name = :n")
                .bind("a", accountId).bind("e", endpointId).bind("n", identifierName)
                .map(MAPPER).findOne());
    }

    /** Adds filters for identifiers that have none yet (409 naming those that have one); answers them in request order. */
    public List<IdentityFilter> add(long accountId, long endpointId, List<RequestedFilter> requested) {
        return jdbi.inTransaction(h -> {
            Map<String, IdentityFilter> existing = lockAndLoad(h, accountId, endpointId);
            List<String> taken = requested.stream().map(RequestedFilter::identifierName)
                    .filter(existing::containsKey).toList();
            if (!taken.isEmpty()) {
                throw Refusal.conflict(quoted(taken) + (taken.size() == 1 ? " already has a filter" : " already have filters")
                        + " on endpoint " + endpointId + ": change " + (taken.size() == 1 ? "it" : "them")
                        + " with PUT /v1/identityfilters, or leave " + (taken.size() == 1 ? "it" : "them")
                        + " out of this request. Nothing was added.");
            }
            List<Long> ids = h.createQuery("SELECT nextval('exchange_filter_seq') FROM UNNEST(:n) AS t(i)")
                    .bind("n", new Integer[requested.size()]).mapTo(Long.class).list();
            List<IdentityFilter> added = new ArrayList<>(requested.size());
            PreparedBatch insert = h.prepareBatch("INSERT INTO exchange_identity_filter (filter_id, account_id, endpoint_id,"
                    + " identifier_name, publish_filter, subscribe_filter) VALUES (:id, :a, :e, :n, :p, :s)");
            for (int i = 0; i < requested.size(); i++) {
                RequestedFilter r = requested.get(i);
                IdentityFilter f = new IdentityFilter(ids.get(i), endpointId, r.identifierName(), r.publishFilter(),
                        r.subscribeFilter());
                insert.bind("id", f.endpointFilterId()).bind("a", accountId).bind("e", endpointId)
                        .bind("n", f.identifierName()).bind("p", f.publishFilter()).bind("s", f.subscribeFilter()).add();
                added.add(f);
            }
            insert.execute();
            return List.copyOf(added);
        });
    }

    /**
     * Replaces the flags of existing filters (400 naming the identifiers that have none); a replaced filter keeps
     * its id. Answers them in request order.
     */
    public List<IdentityFilter> replace(long accountId, long endpointId, List<RequestedFilter> requested) {
        return jdbi.inTransaction(h -> {
            Map<String, IdentityFilter> existing = lockAndLoad(h, accountId, endpointId);
            List<String> missing = requested.stream().map(RequestedFilter::identifierName)
                    .filter(n -> !existing.containsKey(n)).toList();
            if (!missing.isEmpty()) {
                throw Refusal.invalid(quoted(missing) + (missing.size() == 1 ? " has no filter" : " have no filters")
                        + " on endpoint " + endpointId + " to replace: add " + (missing.size() == 1 ? "it" : "them")
                        + " with POST /v1/identityfilters first. Nothing was changed.");
            }
            List<IdentityFilter> replaced = new ArrayList<>(requested.size());
            PreparedBatch update = h.prepareBatch("UPDATE exchange_identity_filter SET publish_filter = :p,"
                    + " subscribe_filter = :s WHERE filter_id = :id AND account_id = :a AND endpoint_id = :e");
            for (RequestedFilter r : requested) {
                IdentityFilter f = new IdentityFilter(existing.get(r.identifierName()).endpointFilterId(), endpointId,
                        r.identifierName(), r.publishFilter(), r.subscribeFilter());
                update.bind("id", f.endpointFilterId()).bind("a", accountId).bind("e", endpointId)
                        .bind("p", f.publishFilter()).bind("s", f.subscribeFilter()).add();
                replaced.add(f);
            }
            update.execute();
            return List.copyOf(replaced);
        });
    }

    /** Removes one filter; false when the endpoint has none for that identifier. */
    public boolean delete(long accountId, long endpointId, String identifierName) {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM exchange_identity_filter WHERE account_id = :a"
                        + " AND endpoint_id = :e AND identifier_name = :n")
                .bind("a", accountId).bind("e", endpointId).bind("n", identifierName)
                .execute()) > 0;
    }

    /**
     * Locks the endpoint's row, then loads its filters: writers of one endpoint's filters run one after the other
     * (on every node sharing the database), so what this transaction checked still holds when it writes.
     */
    private static Map<String, IdentityFilter> lockAndLoad(Handle h, long accountId, long endpointId) {
        if (h.createQuery("SELECT endpoint_id FROM exchange_endpoint WHERE endpoint_id = :e AND account_id = :a FOR UPDATE")
                .bind("e", endpointId).bind("a", accountId).mapTo(Long.class).findOne().isEmpty()) {
            throw Refusal.notFound("There is no endpoint " + endpointId + " in this account.");
        }
        Map<String, IdentityFilter> byName = new LinkedHashMap<>();
        list(h, accountId, endpointId).forEach(f -> byName.put(f.identifierName(), f));
        return byName;
    }

    private static List<IdentityFilter> list(Handle h, long accountId, long endpointId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM exchange_identity_filter WHERE account_id = :a"
                        + " AND endpoint_id = :e ORDER BY filter_id")
                .bind("a", accountId).bind("e", endpointId)
                .map(MAPPER).list();
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "\"" + n + "\"").collect(Collectors.joining(", "));
    }
}
