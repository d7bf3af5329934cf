package idex.uid2.salts;

import idex.support.Eventually;
import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server keeps a copy of the salt set in its data dir and a start reads it instead of the store's snapshot: the
 * set a start gets from the copy is exactly the store's, whatever happened meanwhile (rotations, a newer snapshot
 * written by another server, a damaged copy).
 */
class SaltSetCopyTest {

    @TempDir
    Path dir;

    @Test
    void theServerWritesAnOwnerOnlyCopyAndAStartFromItEqualsTheStoresSetAfterRotations() throws IOException {
        try (TestServer server = TestServer.start(dir, 4096)) {
            Path copy = dir.resolve("salt-set.copy");
            Eventually.await("the server's copy of the salt set", () -> Files.exists(copy), exists -> exists);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy))).isEqualTo("rw-------");

            SaltStore withCopy = new SaltStore(server.database().jdbi(), copy);
            SaltStore storeOnly = new SaltStore(server.database().jdbi());
            assertThat(bytes(withCopy.loadAll())).isEqualTo(bytes(storeOnly.loadAll()));

            // Rotated after the copy was written: a start applies the rows rotated since.
            SaltRotation rotation = new SaltRotation(server.database().jdbi());
            long now = System.currentTimeMillis();
            rotation.rotate(0.02, 0, now + 1000);
            rotation.rotate(0.02, 0, now + 2000);
            SaltBuckets fromCopy = withCopy.loadAll();
            assertThat(fromCopy.generation()).isGreaterThan(new SaltSnapshotFile(copy).read(storeOnly.settings().orElseThrow(), Long.MAX_VALUE)
                    .orElseThrow().generation());
            assertThat(bytes(fromCopy)).isEqualTo(bytes(storeOnly.loadAll()));
        }
    }

    @Test
    void aCopyOlderThanTheStoresSnapshotOrDamagedIsNotUsedAndIsWrittenAgain() throws IOException {
        try (TestServer server = TestServer.start(dir, 4096)) {
            Path copy = dir.resolve("salt-set.copy");
            Eventually.await("the server's copy of the salt set", () -> Files.exists(copy), exists -> exists);
            SaltStore storeOnly = new SaltStore(server.database().jdbi());

            // Another server rotated most of the set and wrote a newer snapshot to the store.
            new SaltRotation(server.database().jdbi()).rotate(0.6, 0, System.currentTimeMillis() + 1000);
            LiveSalts other = new LiveSalts(storeOnly);
            other.refresh();
            storeOnly.snapshotIfBehind(other.current());
            other.close();
            SaltStore withCopy = new SaltStore(server.database().jdbi(), copy);
            assertThat(bytes(withCopy.loadAll())).isEqualTo(bytes(storeOnly.loadAll()));

            // A damaged copy (one byte changed in the middle) is not read; the store's snapshot is.
            byte[] data = Files.readAllBytes(copy);
            data[data.length / 2] ^= 0x5a;
            Files.write(copy, data);
            SaltStore afterDamage = new SaltStore(server.database().jdbi(), copy);
            SaltBuckets loaded = afterDamage.loadAll();
            assertThat(bytes(loaded)).isEqualTo(bytes(storeOnly.loadAll()));

            // The server that read past it writes the copy again, and the next start reads that one.
            afterDamage.snapshotIfBehind(loaded);
            assertThat(new SaltSnapshotFile(copy).read(storeOnly.settings().orElseThrow())).isPresent();
            assertThat(bytes(new SaltStore(server.database().jdbi(), copy).loadAll())).isEqualTo(bytes(storeOnly.loadAll()));
        }
    }

    @Test
    void theCopyOfAnotherStoresSetIsNotUsed() throws IOException {
        Path copyOfA;
        try (TestServer a = TestServer.start(dir.resolve("a"), 1024)) {
            copyOfA = dir.resolve("a").resolve("salt-set.copy");
            Eventually.await("server a's copy of the salt set", () -> Files.exists(copyOfA), exists -> exists);
        }
        try (TestServer b = TestServer.start(dir.resolve("b"), 1024)) {
            SaltStore storeOnly = new SaltStore(b.database().jdbi());
            // Same epoch and generation as a's (both are new stores), another set.
            assertThat(new SaltSnapshotFile(copyOfA).read(storeOnly.settings().orElseThrow())).isEmpty();
            assertThat(bytes(new SaltStore(b.database().jdbi(), copyOfA).loadAll())).isEqualTo(bytes(storeOnly.loadAll()));
        }
    }

    private static byte[] bytes(SaltBuckets set) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(out)) {
            set.writeTo(data);
        }
        return out.toByteArray();
    }
}
