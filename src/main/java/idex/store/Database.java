package idex.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import idex.exchange.identity.StoredFormMigration;
import idex.store.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The connection pool, the schema migrations and the JDBI handle, opened once per process. */
public final class Database implements AutoCloseable {

    /** Who opens the store: a server holds an embedded store for its lifetime; an admin command only borrows it. */
    public enum Holder { SERVER, ADMIN }

    /**
     * The newest schema migration of this build. A store already at it is not handed to Flyway: loading Flyway and
     * validating the applied migrations was a seventh of a server start's main thread, for nothing to do.
     * MigrationsTest keeps it equal to the newest migration in db/migration and the Java ones.
     */
    public static final String NEWEST_MIGRATION = "16";

    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final EmbeddedPostgres embedded;
    /** The main pool's settings, for pools of background work ({@link #separatePool}). */
    private final HikariConfig settings;
    private final List<HikariDataSource> separatePools = new CopyOnWriteArrayList<>();

    private Database(HikariDataSource dataSource, EmbeddedPostgres embedded, HikariConfig settings) {
        this.dataSource = dataSource;
        this.jdbi = Jdbi.create(dataSource);
        this.embedded = embedded;
        this.settings = settings;
    }

    public static Database open(StoreLocation location, int poolSize, Holder holder) {
        EmbeddedPostgres embedded = null;
        HikariConfig config = new HikariConfig();
        if (location.embedded()) {
            embedded = holder == Holder.SERVER ? EmbeddedPostgres.forServer(location.dataDir())
                    : EmbeddedPostgres.forAdmin(location.dataDir());
            config.setJdbcUrl(embedded.jdbcUrl());
            config.setUsername(embedded.user());
            config.setPassword(embedded.password());
        } else {
            config.setJdbcUrl(location.dbUrl());
            if (location.dbPassword() != null) {
                config.setPassword(location.dbPassword()); // the driver's "password" property: never in the URL
            }
        }
        // pgjdbc sends a batch of single-row INSERTs as multi-row ones: several times faster for the million rows of
        // a first start's salt buckets and the identity store's batches (no caller reads batch update counts).
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(Math.min(2, poolSize));
        config.setPoolName("idex-db");
        config.setConnectionTimeout(30_000);
        HikariConfig settings = new HikariConfig();
        config.copyStateTo(settings);
        HikariDataSource ds = null;
        try {
            ds = new HikariDataSource(config);
            if (!isAtNewestMigration(ds)) {
                migrate(ds);
            }
            return new Database(ds, embedded, settings);
        } catch (RuntimeException e) {
            if (ds != null) {
                ds.close();
            }
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
    }

    /** Brings the schema to this build's, with Flyway (which refuses a store a newer idex has migrated further). */
    private static void migrate(DataSource ds) {
        Flyway.configure()
                .dataSource(ds)
                .locations("classpath:db/migration")
                // V8 is Java: it needs the identity store's rule (see the class for why not SQL).
                .javaMigrations(new StoredFormMigration())
                .load()
                .migrate();
    }

    /** Whether the newest migration applied to the store is this build's newest; false for a new store. */
    private static boolean isAtNewestMigration(DataSource ds) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            if (!historyExists(st)) {
                return false;
            }
            try (ResultSet rs = st.executeQuery("SELECT version FROM flyway_schema_history WHERE success"
                    + " ORDER BY installed_rank DESC LIMIT 1")) {
                return rs.next() && NEWEST_MIGRATION.equals(rs.getString(1));
            }
        } catch (SQLException e) {
            return false; // Flyway says what is wrong, if anything
        }
    }

    /** The table Flyway's query would read (resolved on the search path, as Flyway's is). */
    private static boolean historyExists(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT to_regclass('flyway_schema_history') IS NOT NULL")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * A small pool of its own for background work that must not queue behind requests for connections (event
     * delivery: with the main pool busy serving requests, its claims and records waited, and deliveries stalled
     * for as long as the load lasted). Closed with this database. With `waitForFlush` false its commits do not wait
     * for the WAL flush (`synchronous_commit` off for its sessions): only for writes that a crash may lose, because
     * they can be redone (event delivery's leases and outcomes: a lost one means a message is sent again).
     */
    public Jdbi separatePool(String name, int size, boolean waitForFlush) {
        HikariConfig config = new HikariConfig();
        settings.copyStateTo(config);
        config.setPoolName(name);
        if (!waitForFlush) {
            config.setConnectionInitSql("SET synchronous_commit TO OFF");
        }
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        HikariDataSource ds = new HikariDataSource(config);
        separatePools.add(ds);
        return Jdbi.create(ds);
    }

    public int poolSize() {
        return dataSource.getMaximumPoolSize();
    }

    @Override
    public void close() {
        try {
            separatePools.forEach(HikariDataSource::close);
            dataSource.close();
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }
}
