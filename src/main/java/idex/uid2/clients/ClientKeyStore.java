package idex.uid2.clients;

import idex.auth.KeyHash;
import idex.store.SecretsKey;
import idex.uid2.DeploymentSettings;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Client keys in the database. A key's secret is an AES key the server needs, so it is kept, but sealed with the
 * node's {@link SecretsKey} (kept apart from the store) and bound to its row's key id: a copy of the store alone
 * reveals no secret, and a sealed secret moved to another row does not open.
 */
public final class ClientKeyStore {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    private final Jdbi jdbi;
    private final SecretsKey secrets;

    public ClientKeyStore(Jdbi jdbi, SecretsKey secrets) {
        this.jdbi = jdbi;
        this.secrets = secrets;
    }

    /**
     * Creates a key in the UID2 shape `UID2-C-L-999-abcdef.…`; the key and secret are returned once. The key is never
     * stored, the secret only sealed. Refused if the store holds secrets that this node's secrets key does not open, so
     * that a node (or admin command) with the wrong key cannot add secrets the others cannot read.
     */
    public IssuedClientKey create(String name, Set<Role> roles, int siteId, DeploymentSettings deployment, long now) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a key needs a name");
        }
        if (siteId <= 0) {
            throw new IllegalArgumentException("site id must be a positive number");
        }
        String roleText = roles.stream().map(Enum::name).sorted().collect(Collectors.joining(","));
        checkKeyOpensStoredSecrets();
        for (int attempt = 0; ; attempt++) {
            String random = B64.encodeToString(randomBytes(32));
            String keyId = deployment.scope().keyPrefix() + "-C-" + deployment.environment().letter() + "-" + siteId
                    + "-" + random.substring(0, 6);
            String key = keyId + "." + random.substring(6);
            byte[] salt = randomBytes(16);
            byte[] secretBytes = randomBytes(32);
            String secret = B64.encodeToString(secretBytes);
            try {
                jdbi.useHandle(h -> h.createUpdate("INSERT INTO uid2_client_key (key_id, key_hash, key_salt, secret, name,"
                                + " site_id, roles, created, disabled, updated) VALUES (:id, :hash, :salt, :secret, :name, :site,"
                                + " :roles, :now, FALSE, :now)")
                        .bind("id", keyId)
                        .bind("hash", B64.encodeToString(KeyHash.of(key, salt)))
                        .bind("salt", B64.encodeToString(salt))
                        .bind("secret", secrets.seal(secretBytes, boundTo(keyId)))
                        .bind("name", name.trim())
                        .bind("site", siteId)
                        .bind("roles", roleText)
                        .bind("now", now)
                        .execute());
                return new IssuedClientKey(keyId, key, secret, name.trim(), siteId, roleText);
            } catch (UnableToExecuteStatementException e) {
                // A key id is 36 random bits: a clash is possible over many keys; draw again.
                if (attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    public List<ClientKey> list() {
        return jdbi.withHandle(h -> h.createQuery("SELECT key_id, name, site_id, roles, created, disabled, secret, key_hash,"
                        + " key_salt FROM uid2_client_key ORDER BY created, key_id")
                .map((rs, ctx) -> new ClientKey(
                        rs.getString("key_id"),
                        rs.getString("name"),
                        rs.getInt("site_id"),
                        parseRoles(rs.getString("roles")),
                        rs.getLong("created"),
                        rs.getBoolean("disabled"),
                        openSecret(rs.getString("key_id"), rs.getString("secret")),
                        B64D.decode(rs.getString("key_hash")),
                        B64D.decode(rs.getString("key_salt"))))
                .list());
    }

    /**
     * Seals, in place, the secrets still in plain text (stored by an idex from before sealing); returns how many.
     * One transaction, each row updated only if it is still the plain value read, so nodes starting together agree.
     */
    public int sealPlainSecrets() {
        checkKeyOpensStoredSecrets();
        return jdbi.inTransaction(h -> {
            var plain = h.createQuery("SELECT key_id, secret FROM uid2_client_key WHERE secret NOT LIKE :sealed"
                            + " ORDER BY key_id FOR UPDATE")
                    .bind("sealed", SecretsKey.PREFIX + "%")
                    .map((rs, ctx) -> Map.entry(rs.getString("key_id"), rs.getString("secret")))
                    .list();
            int sealed = 0;
            for (var row : plain) {
                String keyId = row.getKey();
                sealed += h.createUpdate("UPDATE uid2_client_key SET secret = :sealed WHERE key_id = :id AND secret = :plain")
                        .bind("sealed", secrets.seal(decodePlain(keyId, row.getValue()), boundTo(keyId)))
                        .bind("id", keyId)
                        .bind("plain", row.getValue())
                        .execute();
            }
            return sealed;
        });
    }

    /** Disables a key; true if it existed. A disabled key stays listed so that its history is visible. */
    public boolean disable(String keyId, long now) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE uid2_client_key SET disabled = TRUE, updated = :now WHERE key_id = :id")
                .bind("id", keyId).bind("now", now).execute()) > 0;
    }

    /** A number that changes whenever a key is added or changed, so a server polls cheaply. */
    public String version() {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) || ':' || COALESCE(MAX(updated), 0) FROM uid2_client_key")
                .mapTo(String.class).one());
    }

    /** The associated data of a key's sealed secret: its table, column and row. */
    private static String boundTo(String keyId) {
        return "uid2_client_key.secret:" + keyId;
    }

    private byte[] openSecret(String keyId, String stored) {
        return SecretsKey.isSealed(stored)
                ? secrets.open(stored, boundTo(keyId), "The client secret of key " + keyId)
                : decodePlain(keyId, stored); // from an older idex, until sealPlainSecrets runs
    }

    private static byte[] decodePlain(String keyId, String stored) {
        try {
            return B64D.decode(stored);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("The client secret of key " + keyId + " is neither sealed nor base64");
        }
    }

    /** Opens one stored sealed secret, if any: throws {@link SecretsKey.CannotOpen} if this key is not the store's. */
    private void checkKeyOpensStoredSecrets() {
        jdbi.withHandle(h -> h.createQuery("SELECT key_id, secret FROM uid2_client_key WHERE secret LIKE :sealed"
                        + " ORDER BY created DESC, key_id LIMIT 1")
                .bind("sealed", SecretsKey.PREFIX + "%")
                .map((rs, ctx) -> openSecret(rs.getString("key_id"), rs.getString("secret")))
                .findOne());
    }

    private static Set<Role> parseRoles(String text) {
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        for (String r : text.split(",")) {
            try {
                roles.add(Role.valueOf(r.trim()));
            } catch (IllegalArgumentException ignored) {
                // a role this version does not know grants nothing
            }
        }
        return roles;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
