package idex.store;

import java.nio.file.Path;

/**
 * Where the data lives: a PostgreSQL named by a JDBC URL (`--db-url`), or the embedded PostgreSQL that idex runs in
 * its data directory (the default). Either way the data dir holds what is this node's alone: the secrets key,
 * and for the embedded store the cluster, its password and the lock.
 */
public record StoreLocation(String dbUrl, Path dataDir) {

    public static StoreLocation of(String dbUrl, Path dataDir) {
        return new StoreLocation(dbUrl == null || dbUrl.isBlank() ? null : dbUrl,
                dataDir == null ? null : dataDir.toAbsolutePath().normalize());
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
