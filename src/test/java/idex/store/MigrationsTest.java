package idex.store;

import idex.exchange.identity.StoredFormMigration;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store whose newest applied migration is {@link Database#NEWEST_MIGRATION} is opened without Flyway, so the
 * constant must name this build's newest migration: a new migration that forgot it would never be applied.
 */
class MigrationsTest {

    private static final Pattern SQL_MIGRATION = Pattern.compile("V(\\d+)__.+\\.sql");

    @Test
    void newestMigrationIsTheNewestOfTheSqlAndJavaMigrations() throws Exception {
        List<BigInteger> versions = new ArrayList<>();
        Path dir = Path.of(Database.class.getResource("/db/migration").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                Matcher m = SQL_MIGRATION.matcher(f.getFileName().toString());
                if (m.matches()) {
                    versions.add(new BigInteger(m.group(1)));
                }
            });
        }
        assertThat(versions).isNotEmpty();
        versions.add(new BigInteger(new StoredFormMigration().getVersion().getVersion()));

        BigInteger newest = versions.stream().max(BigInteger::compareTo).orElseThrow();
        assertThat(Database.NEWEST_MIGRATION).isEqualTo(newest.toString());
    }
}
