package idex.cli;

import idex.store.Database;
import idex.store.StoreLocation;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
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

    @Option(names = "--db-password-file", defaultValue = "${env:IDEX_DB_PASSWORD_FILE}",
            description = "File holding the password of --db-url (its first line), so that no command line shows it"
                    + " (env IDEX_DB_PASSWORD_FILE). Or set IDEX_DB_PASSWORD. Either is sent as the driver's password"
                    + " property.")
    Path dbPasswordFile;

    @Option(names = "--db-pool", defaultValue = "${env:IDEX_DB_POOL:-8}",
            description = "Database connections, and worker threads (env IDEX_DB_POOL; default ${DEFAULT-VALUE}).")
    int poolSize;

    public StoreLocation location() {
        StoreLocation location = StoreLocation.of(dbUrl, dbPassword(), dataDir);
        if (location.urlCarriesPassword()) {
            System.err.println("idex: warning: the --db-url/IDEX_DB_URL carries a password, which `ps`, shell history"
                    + " and logs can show; give it with IDEX_DB_PASSWORD or --db-password-file instead.");
        }
        return location;
    }

    /** The password of --db-url from a file or the environment (never an option: `ps` would show it), or null. */
    private String dbPassword() {
        if (dbPasswordFile != null) {
            try {
                String first = Files.readString(dbPasswordFile).lines().findFirst().orElse("");
                if (first.isEmpty()) {
                    throw new IllegalArgumentException("--db-password-file " + dbPasswordFile + " is empty: put the"
                            + " password on its first line.");
                }
                return first;
            } catch (IOException e) {
                throw new IllegalArgumentException("Cannot read --db-password-file " + dbPasswordFile + ": " + e, e);
            }
        }
        String env = System.getenv("IDEX_DB_PASSWORD");
        return env == null || env.isEmpty() ? null : env;
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
