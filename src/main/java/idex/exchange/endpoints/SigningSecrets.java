package idex.exchange.endpoints;

import idex.store.SecretsKey;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Optional;

/**
 * The signing secrets of event destinations, sealed at rest under the node's {@link SecretsKey} and bound to their
 * endpoint. A destination has one from the moment it is registered or enabled; a rotation keeps the previous one
 * for {@link #OVERLAP_MS}, during which requests carry both signatures, so that receivers can switch without loss.
 */
public final class SigningSecrets {

    /** How long a rotated-out secret still signs requests. */
    public static final long OVERLAP_MS = 24L * 60 * 60 * 1000;

    /** How long the secrets read for signing are used without reading them again (a rotation here applies at once). */
    private static final long FRESH_NANOS = 1_000_000_000L;

    private final Jdbi jdbi;
    private final SecretsKey sealing;
    /** Opened secrets by endpoint: every delivery signs, and a store read plus an AES-GCM open per request added up. */
    private final Map<Long, Opened> recent = new ConcurrentHashMap<>();

    private record Opened(SigningSecret current, SigningSecret previous, long previousUntil, long atNanos) {
    }

    public SigningSecrets(Jdbi jdbi, SecretsKey sealing) {
        this.jdbi = jdbi;
        this.sealing = sealing;
    }

    /**
     * Gives the destination a secret if it has none, inside the caller's transaction: the new secret, to be shown
     * once, or empty when it already had one (a destination enabled again keeps the secret its receiver knows).
     */
    Optional<SigningSecret> issueIfMissing(Handle h, long accountId, long endpointId) {
        boolean has = h.createQuery("SELECT COUNT(*) FROM exchange_event_destination WHERE endpoint_id = :e")
                .bind("e", endpointId).mapTo(Integer.class).one() > 0;
        if (has) {
            return Optional.empty();
        }
        SigningSecret secret = SigningSecret.generate();
        h.createUpdate("INSERT INTO exchange_event_destination (endpoint_id, account_id, signing_secret) VALUES (:e, :a, :s)")
                .bind("e", endpointId).bind("a", accountId).bind("s", seal(secret, endpointId, "current")).execute();
        return Optional.of(secret);
    }

    /** A rotation's new secret, and whether it replaced one (which keeps signing for {@link #OVERLAP_MS}). */
    public record Rotated(SigningSecret secret, boolean replacedOne) {
    }

    /** A new secret for the account's destination; the current one keeps signing for {@link #OVERLAP_MS}. */
    public Rotated rotate(long accountId, long endpointId, long now) {
        return jdbi.inTransaction(h -> {
            Optional<String> current = h.createQuery("SELECT signing_secret FROM exchange_event_destination"
                            + " WHERE endpoint_id = :e AND account_id = :a FOR UPDATE")
                    .bind("e", endpointId).bind("a", accountId).mapTo(String.class).findOne();
            SigningSecret fresh = SigningSecret.generate();
            if (current.isEmpty()) {
                h.createUpdate("INSERT INTO exchange_event_destination (endpoint_id, account_id, signing_secret)"
                                + " VALUES (:e, :a, :s)")
                        .bind("e", endpointId).bind("a", accountId).bind("s", seal(fresh, endpointId, "current")).execute();
                return new Rotated(fresh, false);
            }
            recent.remove(endpointId);
            SigningSecret old = open(current.get(), endpointId, "current");
            h.createUpdate("UPDATE exchange_event_destination SET signing_secret = :s, previous_secret = :p,"
                            + " previous_until = :until WHERE endpoint_id = :e")
                    .bind("e", endpointId).bind("s", seal(fresh, endpointId, "current"))
                    .bind("p", seal(old, endpointId, "previous")).bind("until", now + OVERLAP_MS).execute();
            return new Rotated(fresh, true);
        });
    }

    /** The secrets that sign a request sent at `now`: the current one, then the previous one during its overlap. */
    public List<SigningSecret> signing(long endpointId, long now) {
        long nanos = System.nanoTime();
        Opened opened = recent.get(endpointId);
        if (opened == null || nanos - opened.atNanos() >= FRESH_NANOS) {
            opened = jdbi.withHandle(h -> h.createQuery("SELECT signing_secret, previous_secret, previous_until"
                            + " FROM exchange_event_destination WHERE endpoint_id = :e")
                    .bind("e", endpointId)
                    .map((rs, ctx) -> {
                        String previous = rs.getString(2);
                        return new Opened(open(rs.getString(1), endpointId, "current"),
                                previous == null ? null : open(previous, endpointId, "previous"), rs.getLong(3), nanos);
                    })
                    .findOne().orElse(null));
            if (opened == null) {
                recent.remove(endpointId);
                return List.of();
            }
            recent.put(endpointId, opened);
        }
        return opened.previous() != null && opened.previousUntil() > now
                ? List.of(opened.current(), opened.previous()) : List.of(opened.current());
    }

    private String seal(SigningSecret secret, long endpointId, String slot) {
        return sealing.seal(secret.key(), boundTo(endpointId, slot));
    }

    private SigningSecret open(String sealed, long endpointId, String slot) {
        return new SigningSecret(sealing.open(sealed, boundTo(endpointId, slot),
                "the " + slot + " signing secret of endpoint " + endpointId));
    }

    /** Binds a sealed secret to its row and slot, so that it cannot be copied to another destination. */
    private static String boundTo(long endpointId, String slot) {
        return "exchange_event_destination." + slot + "_secret:" + endpointId;
    }
}
