package idex.uid2.map;

import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Opted-out identity hashes in the database, plus the built-in test identities that are always opted out. */
public final class OptOutStore {

    /** Test identities the reference operator always treats as opted out. */
    public static final List<String> BUILT_IN_EMAILS = List.of("optout@example.com");
    public static final List<String> BUILT_IN_PHONES = List.of("+00000000000");

    private final Jdbi jdbi;

    public OptOutStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Adds an identity hash (32 bytes); false if it was already there. */
    public boolean add(byte[] identityHash, long now) {
        String b64 = Base64.getEncoder().encodeToString(identityHash);
        return jdbi.withHandle(h -> h.createUpdate("INSERT INTO uid2_optout (identity_hash, added) VALUES (:h, :now)"
                        + " ON CONFLICT DO NOTHING")
                .bind("h", b64).bind("now", now).execute()) > 0;
    }

    /** Every opted-out identity hash, the built-in ones included. */
    public List<byte[]> all() {
        List<byte[]> out = new ArrayList<>(builtIn());
        jdbi.useHandle(h -> h.createQuery("SELECT identity_hash FROM uid2_optout")
                .mapTo(String.class)
                .forEach(s -> out.add(Base64.getDecoder().decode(s))));
        return out;
    }

    public String version() {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) || ':' || COALESCE(MAX(added), 0) FROM uid2_optout")
                .mapTo(String.class).one());
    }

    private static List<byte[]> builtIn() {
        List<byte[]> out = new ArrayList<>();
        IdentityHasher hasher = IdentityHasher.forThread();
        for (String e : BUILT_IN_EMAILS) {
            out.add(hasher.identityHash(IdentityNormalizer.normalizeEmail(e)).clone());
        }
        for (String p : BUILT_IN_PHONES) {
            out.add(hasher.identityHash(p).clone());
        }
        return out;
    }

    /** The identity hash of an email or phone as typed by an operator; null if it is neither. */
    public static byte[] identityHashOf(String emailOrPhone) {
        String text = emailOrPhone.trim();
        IdentityHasher hasher = IdentityHasher.forThread();
        if (text.startsWith("+")) {
            return IdentityNormalizer.isNormalizedPhone(text) ? hasher.identityHash(text).clone() : null;
        }
        String email = IdentityNormalizer.normalizeEmail(text);
        return email == null ? null : hasher.identityHash(email).clone();
    }
}
