package idex.exchange.accounts;

import idex.auth.KeyHash;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.Base64;
import java.util.List;

/**
 * Bearer keys in the store. A key reads `idex_<keyId>_<secret>`: the key id names the row, the whole key is
 * verified against a salted hash.
 */
public final class ApiKeyStore {

    private static final String PREFIX = "idex_";
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    private final Jdbi jdbi;

    public ApiKeyStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Issues a key inside the caller's transaction (creating an endpoint and its key is one change). */
    public static IssuedApiKey issue(Handle h, long accountId, Long endpointId, long now) {
        // 60 random bits of key id: unique in practice; the primary key catches the rare clash.
        String keyId = KeyHash.randomToken(9).replace('-', 'x').replace('_', 'y').toLowerCase();
        String key = PREFIX + keyId + "_" + KeyHash.randomToken(32);
        byte[] salt = KeyHash.randomBytes(16);
        byte[] hash = KeyHash.of(key, salt);
        h.createUpdate("INSERT INTO exchange_key (key_id, key_hash, key_salt, account_id, endpoint_id, created, revoked,"
                        + " updated) VALUES (:id, :hash, :salt, :account, :endpoint, :now, NULL, :now)")
                .bind("id", keyId)
                .bind("hash", B64.encodeToString(hash))
                .bind("salt", B64.encodeToString(salt))
                .bind("account", accountId)
                .bind("endpoint", endpointId)
                .bind("now", now)
                .execute();
        return new IssuedApiKey(key, new ApiKey(keyId, accountId, endpointId, hash, salt, now, null));
    }

    /** Issues a key for an existing account (and endpoint of that account, when given). */
    public IssuedApiKey create(long accountId, Long endpointId, long now) {
        return jdbi.inTransaction(h -> {
            if (h.createQuery("SELECT COUNT(*) FROM exchange_account WHERE account_id = :a").bind("a", accountId)
                    .mapTo(Integer.class).one() == 0) {
                throw new IllegalArgumentException("There is no account " + accountId + ".");
            }
            if (endpointId != null && h.createQuery("SELECT COUNT(*) FROM exchange_endpoint WHERE endpoint_id = :e"
                    + " AND account_id = :a").bind("e", endpointId).bind("a", accountId).mapTo(Integer.class).one() == 0) {
                throw new IllegalArgumentException("Account " + accountId + " has no endpoint " + endpointId + ".");
            }
            return issue(h, accountId, endpointId, now);
        });
    }

    /** Revokes a key; false if there is no such key or it was already revoked. */
    public boolean revoke(String keyId, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE exchange_key SET revoked = :now, updated = :now"
                + " WHERE key_id = :id AND revoked IS NULL").bind("id", keyId).bind("now", now).execute()) > 0;
    }

    public List<ApiKey> list() {
        return query("");
    }

    public List<ApiKey> listForAccount(long accountId) {
        return query(" WHERE account_id = " + accountId);
    }

    private List<ApiKey> query(String where) {
        return jdbi.withHandle(h -> h.createQuery("SELECT key_id, account_id, endpoint_id, key_hash, key_salt, created,"
                        + " revoked FROM exchange_key" + where + " ORDER BY created, key_id")
                .map((rs, ctx) -> new ApiKey(
                        rs.getString("key_id"),
                        rs.getLong("account_id"),
                        (Long) rs.getObject("endpoint_id", Long.class),
                        B64D.decode(rs.getString("key_hash")),
                        B64D.decode(rs.getString("key_salt")),
                        rs.getLong("created"),
                        (Long) rs.getObject("revoked", Long.class)))
                .list());
    }

    /** Changes whenever a key is added or revoked, so a running server polls cheaply. */
    public String version() {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) || ':' || COALESCE(MAX(updated), 0) FROM exchange_key")
                .mapTo(String.class).one());
    }

    /** The key id inside a key, or null if the text is not shaped like one of ours. */
    static String keyIdOf(String key) {
        if (!key.startsWith(PREFIX)) {
            return null;
        }
        int end = key.indexOf('_', PREFIX.length());
        return end > PREFIX.length() ? key.substring(PREFIX.length(), end) : null;
    }
}
