package idex.cli;

import idex.store.Database;
import idex.store.StoreLocation;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the store is, shared by `serve` and every admin command (which work whether or not a server runs). */
public final class StoreOptions {

    @Option(names = "--data-dir", defaultValue = "${env:IDEX_DATA_DIR:-./data}",
            description = "Owner-only directory of this node's data: the embedded PostgreSQL store (unless --db-url), its"
                    + " password and the secrets key (env IDEX_DATA_DIR; default ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--db-url", defaultValue = "${env:IDEX_DB_URL}",
            description = "JDBC URL of the store instead of the embedded one, e.g. jdbc:postgresql://host/idex?user=…"
                    + " (env IDEX_DB_URL).")
    String dbUrl;

    @Option(names = "--db-pool", defaultValue = "${env:IDEX_DB_POOL:-8}",
            description = "Database connections, and worker threads (env IDEX_DB_POOL; default ${DEFAULT-VALUE}).")
    int poolSize;

    public StoreLocation location() {
        return StoreLocation.of(dbUrl, dataDir);
    }

    public Database open() {
        return Database.open(location(), poolSize, Database.Holder.SERVER);
    }

    /** Admin commands need few connections. */
    public Database openForAdmin() {
        return Database.open(location(), 2, Database.Holder.ADMIN);
    }

    public Path dataDir() {
        return dataDir;
    }

    public int poolSize() {
        return poolSize;
    }
}
