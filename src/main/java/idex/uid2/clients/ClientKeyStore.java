package idex.uid2.clients;

import idex.auth.KeyHash;
import idex.uid2.DeploymentSettings;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Client keys in the database. */
public final class ClientKeyStore {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    private final Jdbi jdbi;

    public ClientKeyStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Creates a key in the UID2 shape `UID2-C-L-999-abcdef.…`; the key and secret are returned once, never stored. */
    public IssuedClientKey create(String name, Set<Role> roles, int siteId, DeploymentSettings deployment, long now) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a key needs a name");
        }
        if (siteId <= 0) {
            throw new IllegalArgumentException("site id must be a positive number");
        }
        String roleText = roles.stream().map(Enum::name).sorted().collect(Collectors.joining(","));
        for (int attempt = 0; ; attempt++) {
            String random = B64.encodeToString(randomBytes(32));
            String keyId = deployment.scope().keyPrefix() + "-C-" + deployment.environment().letter() + "-" + siteId
                    + "-" + random.substring(0, 6);
            String key = keyId + "." + random.substring(6);
            byte[] salt = randomBytes(16);
            String secret = B64.encodeToString(randomBytes(32));
            try {
                jdbi.useHandle(h -> h.createUpdate("INSERT INTO uid2_client_key (key_id, key_hash, key_salt, secret, name,"
                                + " site_id, roles, created, disabled, updated) VALUES (:id, :hash, :salt, :secret, :name, :site,"
                                + " :roles, :now, FALSE, :now)")
                        .bind("id", keyId)
                        .bind("hash", B64.encodeToString(KeyHash.of(key, salt)))
                        .bind("salt", B64.encodeToString(salt))
                        .bind("secret", secret)
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
                        B64D.decode(rs.getString("secret")),
                        B64D.decode(rs.getString("key_hash")),
                        B64D.decode(rs.getString("key_salt"))))
                .list());
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
