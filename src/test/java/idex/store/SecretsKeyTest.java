package idex.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The secrets key: where it comes from, its file, and what sealing binds. */
class SecretsKeyTest {

    @TempDir
    Path dir;

    private static final byte[] SECRET = "thirty-two bytes of a client key".getBytes(StandardCharsets.US_ASCII);

    @Test
    void theFileIsCreatedOnceOwnerOnlyAndReused() throws Exception {
        SecretsKey first = SecretsKey.load(null, dir);
        Path file = dir.resolve(SecretsKey.FILE_NAME);
        assertThat(first.source()).isEqualTo(file.toString());
        assertThat(Base64.getDecoder().decode(Files.readString(file).strip())).hasSize(32);
        if (OwnerOnly.posix(file)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly(SecretsKey.FILE_NAME);
        }

        String sealed = first.seal(SECRET, "row-1");
        assertThat(SecretsKey.load(null, dir).open(sealed, "row-1", "the secret")).isEqualTo(SECRET);
    }

    @Test
    void aFileOpenToOthersIsMadeOwnerOnly() throws Exception {
        Path file = dir.resolve(SecretsKey.FILE_NAME);
        assumeThat(OwnerOnly.posix(dir)).isTrue();
        SecretsKey.load(null, dir);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        SecretsKey.load(null, dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void concurrentCreatorsAgreeOnOneKey() throws Exception {
        int n = 8;
        CyclicBarrier together = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<SecretsKey>> loads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Callable<SecretsKey> load = () -> {
                    together.await();
                    return SecretsKey.load(null, dir);
                };
                loads.add(pool.submit(load));
            }
            String sealed = loads.get(0).get().seal(SECRET, "row");
            for (Future<SecretsKey> f : loads) {
                assertThat(f.get().open(sealed, "row", "the secret")).isEqualTo(SECRET);
            }
        } finally {
            pool.shutdownNow();
        }
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly(SecretsKey.FILE_NAME);
        }
    }

    @Test
    void theEnvironmentVariableWinsOverTheFile() {
        byte[] raw = new byte[32];
        raw[0] = 7;
        SecretsKey env = SecretsKey.load(Base64.getEncoder().encodeToString(raw), dir);
        assertThat(env.source()).isEqualTo(SecretsKey.ENV);
        assertThat(dir.resolve(SecretsKey.FILE_NAME)).doesNotExist();
        assertThat(SecretsKey.of(raw, "same").open(env.seal(SECRET, "r"), "r", "the secret")).isEqualTo(SECRET);
    }

    @Test
    void anEnvironmentValueThatIsNotThirtyTwoBytesOfBase64IsRefused() {
        for (String bad : List.of("not base64!", Base64.getEncoder().encodeToString(new byte[16]),
                Base64.getEncoder().encodeToString(new byte[33]))) {
            assertThatThrownBy(() -> SecretsKey.load(bad, dir))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("IDEX_SECRETS_KEY is not a secrets key")
                    .hasMessageContaining("base64 of 32 random bytes");
        }
    }

    @Test
    void aDamagedKeyFileIsRefused() throws Exception {
        Files.writeString(dir.resolve(SecretsKey.FILE_NAME), "short");
        assertThatThrownBy(() -> SecretsKey.load(null, dir))
                .hasMessageContaining(dir.resolve(SecretsKey.FILE_NAME) + " is not a secrets key");
    }

    @Test
    void sealingIsRandomizedAndOpensOnlyForItsRowAndKey() {
        SecretsKey key = SecretsKey.load(null, dir);
        String a = key.seal(SECRET, "row-1");
        String b = key.seal(SECRET, "row-1");
        assertThat(a).startsWith("v1:").isNotEqualTo(b);
        assertThat(a).doesNotContain(Base64.getEncoder().encodeToString(SECRET));

        assertThatThrownBy(() -> key.open(a, "row-2", "The secret of row-2"))
                .isInstanceOf(SecretsKey.CannotOpen.class)
                .hasMessageStartingWith("The secret of row-2 cannot be opened with the key in " + key.source());

        SecretsKey other = SecretsKey.of(new byte[32], SecretsKey.ENV);
        assertThatThrownBy(() -> other.open(a, "row-1", "The secret"))
                .isInstanceOf(SecretsKey.CannotOpen.class)
                .hasMessageContaining("cannot be opened with the key in IDEX_SECRETS_KEY")
                .hasNoCause();

        String tampered = a.substring(0, a.length() - 6) + (a.endsWith("AAAA==") ? "BBBB==" : "AAAA==");
        assertThatThrownBy(() -> key.open(tampered, "row-1", "The secret")).isInstanceOf(SecretsKey.CannotOpen.class);
        assertThatThrownBy(() -> key.open("v1:%%%", "row-1", "The secret")).hasMessageContaining("damaged");
    }

    @Test
    void withoutADataDirTheKeyMustComeFromTheEnvironment() {
        assertThatThrownBy(() -> SecretsKey.load(null, null)).hasMessageContaining("IDEX_SECRETS_KEY");
    }
}
