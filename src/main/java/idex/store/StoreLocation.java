package idex.store;

import java.nio.file.Path;

/**
 * Where the data lives: a PostgreSQL named by a JDBC URL (`--db-url`), or the embedded PostgreSQL that idex runs in
 * its data directory (the default). Either way the data dir holds what is this node's alone: the secrets key,
 * and for the embedded store the cluster, its password and the lock.
 */
public record StoreLocation(String dbUrl, String dbPassword, Path dataDir) {

    public static StoreLocation of(String dbUrl, Path dataDir) {
        return of(dbUrl, null, dataDir);
    }

    /**
     * `dbPassword` (may be null) is the password of `dbUrl`, given apart from it so that it never shows in a command
     * line (`ps`) or in a logged URL; it is ignored for the embedded store.
     */
    public static StoreLocation of(String dbUrl, String dbPassword, Path dataDir) {
        return new StoreLocation(dbUrl == null || dbUrl.isBlank() ? null : dbUrl, dbPassword,
                dataDir == null ? null : dataDir.toAbsolutePath().normalize());
    }

    /** Whether the URL itself carries a password, which then shows wherever the URL does. */
    public boolean urlCarriesPassword() {
        return dbUrl != null && dbUrl.toLowerCase(java.util.Locale.ROOT).matches(".*[?&;]password=.*");
    }

    /** Never the password, should a record ever be logged. */
    @Override
    public String toString() {
        return "StoreLocation[" + display() + "]";
    }

    public boolean embedded() {
        return dbUrl == null;
    }

    /** For logs: the URL with any password masked, or the embedded store's place. */
    public String display() {
        return embedded() ? "embedded PostgreSQL in " + dataDir
                : dbUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
