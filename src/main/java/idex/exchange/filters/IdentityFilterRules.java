package idex.exchange.filters;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.HashSet;
import java.util.Set;

/**
 * What identity filters withhold when data leaves the exchange (segment files, event deliveries; spec §3): on the
 * route from a source endpoint to a destination endpoint, the identifiers the source publish-filters and those the
 * destination subscribe-filters. Filters act only on the way out, never on what is stored, so callers apply this
 * at the moment they write a file or deliver an event.
 */
public final class IdentityFilterRules {

    private final Jdbi jdbi;

    public IdentityFilterRules(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** The identifier names that must not be sent from `sourceEndpointId` to `destinationEndpointId`. */
    public WithheldIdentifiers between(long accountId, long sourceEndpointId, long destinationEndpointId) {
        return jdbi.withHandle(h -> between(h, accountId, sourceEndpointId, destinationEndpointId));
    }

    /** The same, inside the caller's transaction (so that it sees the filters as of the data it sends). */
    public WithheldIdentifiers between(Handle h, long accountId, long sourceEndpointId, long destinationEndpointId) {
        // One query for both sides; the account condition keeps another account's filters out even for a wrong id.
        return new WithheldIdentifiers(new HashSet<>(h.createQuery("SELECT identifier_name FROM exchange_identity_filter"
                        + " WHERE account_id = :a AND ((endpoint_id = :source AND publish_filter = TRUE)"
                        + " OR (endpoint_id = :destination AND subscribe_filter = TRUE))")
                .bind("a", accountId).bind("source", sourceEndpointId).bind("destination", destinationEndpointId)
                .mapTo(String.class).list()));
    }

    /**
     * The endpoints of the account that publish-filter `identifierName`. A value they contributed to the identity
     * store must not leave the exchange even when another endpoint's job reaches it through the graph: the filter
     * holds for the data the endpoint sourced, whichever job carries it.
     */
    public Set<Long> publishersWithholding(long accountId, String identifierName) {
        return new HashSet<>(jdbi.withHandle(h -> h.createQuery("SELECT endpoint_id FROM exchange_identity_filter"
                        + " WHERE account_id = :a AND identifier_name = :n AND publish_filter = TRUE")
                .bind("a", accountId).bind("n", identifierName).mapTo(Long.class).list()));
    }
}
