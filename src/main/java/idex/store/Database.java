package idex.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

import javax.sql.DataSource;

/** The connection pool, the schema migrations and the JDBI handle, opened once per process. */
public final class Database implements AutoCloseable {

    static {
        // H2's AUTO_SERVER mode opens a TCP port so that a second process (an admin command) can reach a store
        // that a server holds. It must listen on loopback only: nothing listens beyond the configured host.
        if (System.getProperty("h2.bindAddress") == null) {
            System.setProperty("h2.bindAddress", "127.0.0.1");
        }
    }

    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final boolean h2;

    private Database(HikariDataSource dataSource, boolean h2) {
        this.dataSource = dataSource;
        this.jdbi = Jdbi.create(dataSource);
        this.h2 = h2;
    }

    public static Database open(StoreLocation location, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(location.jdbcUrl());
        if (location.user() != null) {
            config.setUsername(location.user());
            config.setPassword(location.password());
        }
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(Math.min(2, poolSize));
        config.setPoolName("idex-db");
        config.setConnectionTimeout(30_000);
        HikariDataSource ds = new HikariDataSource(config);
        try {
            migrate(ds, location.isH2());
            return new Database(ds, location.isH2());
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    private static void migrate(DataSource ds, boolean h2) {
        Flyway.configure()
                .dataSource(ds)
                .locations("classpath:db/migration/common", h2 ? "classpath:db/migration/h2" : "classpath:db/migration/postgresql")
                .load()
                .migrate();
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public boolean isH2() {
        return h2;
    }

    public int poolSize() {
        return dataSource.getMaximumPoolSize();
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
