package idex.store;

import java.nio.file.Path;

/**
 * Where the data lives: a JDBC URL given by the operator, or the embedded H2 file store inside a data directory.
 * The H2 URL runs in PostgreSQL mode so that one SQL code path serves both databases, and with AUTO_SERVER so that
 * admin commands can open the store while a server process holds it. WRITE_DELAY=0 writes each commit to the file
 * at once: with H2's default delay a process killed with SIGKILL lost transactions committed in its last second.
 *
 * Two H2 settings keep the server's garbage collection short when the identity store is large (BENCHMARKS.md,
 * "Identity store"; measured with 10 million identifiers at 1,000 lookups a second):
 * <ul>
 * <li>{@link #H2_CACHE_KB}: H2 keeps the pages it reads as Java objects in its page cache. Beyond the top levels of
 *     the trees every lookup reads pages the cache cannot hold anyway, and each page it does keep for a while
 *     survives a young collection and is copied: with 16 MB, 4–6 MB survived each collection (25–45 ms pauses with
 *     `-Xmn64m` SerialGC) and more reached the old generation; with 1 MB, under 2 MB survive (about 6 ms). Resolving a
 *     million records measured 0–17 % slower with it (single runs; runs vary by ±10 %).</li>
 * <li>{@link #H2_AUTO_COMPACT_FILL_RATE}: while the store is read or written, H2 rewrites its chunks in the background
 *     as long as their live share is below a target derived from this rate: 62 % with H2's default (90), which a
 *     store filled by resolution to 10 million identifiers never reached (it stayed near 43 %), so H2 rewrote without
 *     end — about 200 MB/s of allocation and a third of a core while serving lookups. With 80 the target is 28 %,
 *     reached within a minute, after which it stops. A filled store then keeps its file size; later writes reuse the
 *     free space in it.</li>
 * </ul>
 */
public record StoreLocation(String jdbcUrl, String user, String password) {

    /** H2 page cache of the embedded store, in KB (H2's smallest). */
    static final int H2_CACHE_KB = 1024;
    /** Live share of the file, in percent, below which H2 compacts in the background. */
    static final int H2_AUTO_COMPACT_FILL_RATE = 80;

    public static StoreLocation of(String dbUrl, Path dataDir) {
        if (dbUrl != null && !dbUrl.isBlank()) {
            return new StoreLocation(dbUrl, null, null);
        }
        Path file = dataDir.toAbsolutePath().normalize().resolve("idex");
        return new StoreLocation("jdbc:h2:file:" + file
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;AUTO_SERVER=TRUE"
                + ";CACHE_SIZE=" + H2_CACHE_KB + ";AUTO_COMPACT_FILL_RATE=" + H2_AUTO_COMPACT_FILL_RATE + ";WRITE_DELAY=0", "sa", "");
    }

    public boolean isH2() {
        return jdbcUrl.startsWith("jdbc:h2:");
    }

    /** The URL with any password parameter masked, for logs. */
    public String display() {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
