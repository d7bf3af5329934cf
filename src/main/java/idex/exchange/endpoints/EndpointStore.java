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
import java.util.OptionalLong;
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

    private static final String COLUMNS = "endpoint_id, account_id, registration, created, updated,"
            + " event_destination_disabled, push_destination_disabled";
    private static final RowMapper<Endpoint> MAPPER = (rs, ctx) -> new Endpoint(rs.getLong("endpoint_id"),
            rs.getLong("account_id"), parse(rs.getString("registration")), rs.getLong("created"), rs.getLong("updated"),
            rs.getString("event_destination_disabled"), rs.getString("push_destination_disabled"));

    private final Jdbi jdbi;
    private final SigningSecrets secrets;
    /** Endpoints by id, as last read; an unknown id is not kept (it may be created any moment). */
    private final Map<Long, Read> recent = new ConcurrentHashMap<>();
    /** Counts this server's registration changes, so that a read that overlapped one is not kept (guarded by recent). */
    private long changes;

    private record Read(Endpoint endpoint, long atNanos) {
        boolean fresh(long now) {
            return now - atNanos < FRESH_NANOS;
        }
    }

    public EndpointStore(Jdbi jdbi, SigningSecrets secrets) {
        this.jdbi = jdbi;
        this.secrets = secrets;
    }

    /**
     * A new endpoint, its key, and its signing secret if it is an event or push destination or a pull producer (each
     * shown this once).
     */
    public record Created(Endpoint endpoint, IssuedApiKey key, Optional<SigningSecret> signingSecret) {
    }

    /** A changed endpoint, and the signing secret it was given if it became an event destination for the first time. */
    public record Updated(Endpoint endpoint, Optional<SigningSecret> signingSecret) {
    }

    /** The signing secrets of the account's event destinations. */
    public SigningSecrets secrets() {
        return secrets;
    }

    /** Registers an endpoint and issues its endpoint-level key (and signing secret), in one transaction. */
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
            Optional<SigningSecret> secret = registration.needsSigningSecret()
                    ? secrets.issueIfMissing(h, accountId, id) : Optional.empty();
            return new Created(new Endpoint(id, accountId, registration, now, now, null, null), key, secret);
        });
    }

    /**
     * Replaces a registration; the endpoint must belong to the account. An event destination (enabled again) loses
     * the mark of having been turned off by delivery and its failure streak, and gets a signing secret if it has none.
     */
    public Updated update(long accountId, long endpointId, Registration registration, long now) {
        Optional<SigningSecret> secret = jdbi.inTransaction(h -> {
            int n = h.createUpdate("UPDATE exchange_endpoint SET name = :name, audience_role = :role,"
                            + " audience_mode = :mode, event_source = :eventSource, event_destination = :eventDestination,"
                            + " registration = :registration, updated = :now, event_destination_disabled = NULL,"
                            + " push_destination_disabled = NULL, push_failing_since = NULL"
                            + " WHERE endpoint_id = :id AND account_id = :account")
                    .bind("id", endpointId).bind("account", accountId).bind("now", now)
                    .bindMap(columns(registration))
                    .execute();
            if (n == 0) {
                throw missing(endpointId);
            }
            // Push exports parked while this push destination was turned off are due again (the job engine has no
            // other way to learn of the PUT), with a fresh retry schedule.
            h.createUpdate("UPDATE exchange_job SET next_attempt = :now, push_failures = 0, updated = :now"
                            + " WHERE destination_endpoint_id = :id AND status = 'RUNNING' AND sub_status = 'DELIVERING'"
                            + " AND claimed_by IS NULL AND next_attempt IS NULL")
                    .bind("id", endpointId).bind("now", now).execute();
            if (!registration.needsSigningSecret()) {
                return Optional.<SigningSecret>empty();
            }
            if (registration.eventDestination()) {
                h.createUpdate("UPDATE exchange_event_destination SET failing_since = NULL WHERE endpoint_id = :id")
                        .bind("id", endpointId).execute();
            }
            return secrets.issueIfMissing(h, accountId, endpointId);
        });
        forget(endpointId);
        return new Updated(find(accountId, endpointId).orElseThrow(() -> missing(endpointId)), secret);
    }

    /**
     * Turns an event destination off because delivery to it failed for too long (`reason` says so on its GET);
     * its pending deliveries wait until it is enabled again. No-op if the endpoint was changed since it was read.
     */
    public void turnOffEventDestination(Endpoint endpoint, String reason, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_endpoint SET event_destination = FALSE,"
                        + " registration = :registration, event_destination_disabled = :reason, updated = :now"
                        + " WHERE endpoint_id = :id AND account_id = :account AND updated = :seen")
                .bind("registration", endpoint.registration().withEventDestinationOff().toJsonText())
                .bind("reason", reason).bind("now", now).bind("seen", endpoint.updated())
                .bind("id", endpoint.endpointId()).bind("account", endpoint.accountId())
                .execute());
        forget(endpoint.endpointId());
    }

    /**
     * Records how a call to a push destination went: one that worked ends its failure streak, one that failed starts
     * one if none runs. Answers since when every call to it has failed (empty after one that worked).
     */
    public OptionalLong pushCallOutcome(long endpointId, boolean worked, long at) {
        if (worked) {
            jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_endpoint SET push_failing_since = NULL"
                    + " WHERE endpoint_id = :id AND push_failing_since IS NOT NULL").bind("id", endpointId).execute());
            return OptionalLong.empty();
        }
        return jdbi.withHandle(h -> h.createQuery("UPDATE exchange_endpoint"
                        + " SET push_failing_since = COALESCE(push_failing_since, :at) WHERE endpoint_id = :id"
                        + " RETURNING push_failing_since")
                .bind("id", endpointId).bind("at", at).mapTo(Long.class).findOne()
                .map(OptionalLong::of).orElse(OptionalLong.empty()));
    }

    /**
     * Turns a push destination off because every call to it failed for too long (`reason` shows on its GET); its
     * delivering jobs wait, without attempts, until its registration is PUT again.
     */
    public void turnOffPushDestination(long endpointId, String reason, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE exchange_endpoint SET push_destination_disabled = :reason,"
                        + " updated = :now WHERE endpoint_id = :id AND push_destination_disabled IS NULL")
                .bind("reason", reason).bind("now", now).bind("id", endpointId).execute());
        forget(endpointId);
    }

    private void forget(long endpointId) {
        synchronized (recent) {
            changes++;
            recent.remove(endpointId);
        }
    }

    public Optional<Endpoint> find(long accountId, long endpointId) {
        return findAnyAccount(endpointId).filter(e -> e.accountId() == accountId);
    }

    /**
     * An endpoint whatever its account: for work that holds an endpoint id the store gave it (event delivery),
     * never for an id a request named.
     */
    public Optional<Endpoint> findAnyAccount(long endpointId) {
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
        return Optional.of(read.endpoint());
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
