package idex.exchange.endpoints;

import idex.errors.Refusal;
import idex.exchange.accounts.ApiKeyStore;
import idex.exchange.accounts.IssuedApiKey;
import idex.json.Json;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Endpoints in the store. Every read is scoped to an account: another account's endpoint does not exist.
 * <p>
 * Reads of one endpoint are served from memory for up to {@link #FRESH_NANOS}: every event and identity lookup
 * needs its endpoint's registration (the declared types say how values are stored), and a query for it on each
 * request was half of a lookup's round trips to the store. This server's own changes apply at once; a change made
 * through another server on the same store applies here within that second, as a revoked key does.
 */
public final class EndpointStore {

    /** How long a registration read from the store is used without reading it again. */
    static final long FRESH_NANOS = 1_000_000_000L;

    private static final String COLUMNS = "endpoint_id, account_id, registration, created, updated";
    private static final RowMapper<Endpoint> MAPPER = (rs, ctx) -> new Endpoint(rs.getLong("endpoint_id"),
            rs.getLong("account_id"), parse(rs.getString("registration")), rs.getLong("created"), rs.getLong("updated"));

    private final Jdbi jdbi;
    /** Endpoints by id, as last read; an unknown id is not kept (it may be created any moment). */
    private final Map<Long, Read> recent = new ConcurrentHashMap<>();
    /** Counts this server's registration changes, so that a read that overlapped one is not kept (guarded by recent). */
    private long changes;

    private record Read(Endpoint endpoint, long atNanos) {
        boolean fresh(long now) {
            return now - atNanos < FRESH_NANOS;
        }
    }

    public EndpointStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public record Created(Endpoint endpoint, IssuedApiKey key) {
    }

    /** Registers an endpoint and issues its endpoint-level key, in one transaction. */
    public Created create(long accountId, Registration registration, long now) {
        return jdbi.inTransaction(h -> {
            long id = h.createQuery("SELECT nextval('exchange_endpoint_seq')").mapTo(Long.class).one();
            h.createUpdate("INSERT INTO exchange_endpoint (endpoint_id, account_id, name, audience_role, audience_mode,"
                            + " event_source, event_destination, registration, created, updated) VALUES (:id, :account,"
                            + " :name, :role, :mode, :eventSource, :eventDestination, :registration, :now, :now)")
                    .bind("id", id).bind("account", accountId).bind("now", now)
                    .bindMap(columns(registration))
                    .execute();
            IssuedApiKey key = ApiKeyStore.issue(h, accountId, id, now);
            return new Created(new Endpoint(id, accountId, registration, now, now), key);
        });
    }

    /** Replaces a registration; the endpoint must belong to the account. */
    public Endpoint update(long accountId, long endpointId, Registration registration, long now) {
        int n = jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_endpoint SET name = :name, audience_role = :role,"
                        + " audience_mode = :mode, event_source = :eventSource, event_destination = :eventDestination,"
                        + " registration = :registration, updated = :now WHERE endpoint_id = :id AND account_id = :account")
                .bind("id", endpointId).bind("account", accountId).bind("now", now)
                .bindMap(columns(registration))
                .execute());
        synchronized (recent) {
            changes++;
            recent.remove(endpointId);
        }
        if (n == 0) {
            throw missing(endpointId);
        }
        return find(accountId, endpointId).orElseThrow(() -> missing(endpointId));
    }

    public Optional<Endpoint> find(long accountId, long endpointId) {
        long now = System.nanoTime();
        Read read = recent.get(endpointId);
        if (read == null || !read.fresh(now)) {
            long seen;
            synchronized (recent) {
                seen = changes;
            }
            Optional<Endpoint> stored = jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_endpoint"
                    + " WHERE endpoint_id = :id").bind("id", endpointId).map(MAPPER).findOne());
            if (stored.isEmpty()) {
                recent.remove(endpointId);
                return Optional.empty();
            }
            read = new Read(stored.get(), now);
            synchronized (recent) {
                if (changes == seen) { // else it may have read the row before a change this server just made
                    recent.put(endpointId, read);
                }
            }
        }
        return read.endpoint().accountId() == accountId ? Optional.of(read.endpoint()) : Optional.empty();
    }

    /** 404, as if it did not exist, unless the endpoint is one of the account's. */
    public void requireExists(long accountId, long endpointId) {
        require(accountId, endpointId);
    }

    /** The endpoint, or 404 as if it did not exist when it is unknown or another account's. */
    public Endpoint require(long accountId, long endpointId) {
        return find(accountId, endpointId).orElseThrow(() -> missing(endpointId));
    }

    public List<Endpoint> list(long accountId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM exchange_endpoint WHERE account_id = :account"
                        + " ORDER BY endpoint_id")
                .bind("account", accountId).map(MAPPER).list());
    }

    /** The columns a registration is stored in: the JSON, and what queries filter on. */
    private static Map<String, Object> columns(Registration r) {
        Map<String, Object> c = new HashMap<>();
        c.put("name", r.name());
        c.put("role", r.audienceRole().name());
        c.put("mode", r.audienceMode());
        c.put("eventSource", r.eventSource());
        c.put("eventDestination", r.eventDestination());
        c.put("registration", r.toJsonText());
        return c;
    }

    private static Refusal missing(long endpointId) {
        return Refusal.notFound("There is no endpoint " + endpointId + " in this account.");
    }

    private static Registration parse(String json) {
        try {
            return Registration.parse(Json.MAPPER.readTree(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
