package idex.store;

import java.nio.file.Path;

/**
 * Where the data lives: a JDBC URL given by the operator, or the embedded H2 file store inside a data directory.
 * The H2 URL runs in PostgreSQL mode so that one SQL code path serves both databases, and with AUTO_SERVER so that
 * admin commands can open the store while a server process holds it.
 */
public record StoreLocation(String jdbcUrl, String user, String password) {

    public static StoreLocation of(String dbUrl, Path dataDir) {
        if (dbUrl != null && !dbUrl.isBlank()) {
            return new StoreLocation(dbUrl, null, null);
        }
        Path file = dataDir.toAbsolutePath().normalize().resolve("idex");
        return new StoreLocation("jdbc:h2:file:" + file
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;AUTO_SERVER=TRUE;CACHE_SIZE=16384;WRITE_DELAY=0", "sa", "");
    }

    public boolean isH2() {
        return jdbcUrl.startsWith("jdbc:h2:");
    }

    /** The URL with any password parameter masked, for logs. */
    public String display() {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
