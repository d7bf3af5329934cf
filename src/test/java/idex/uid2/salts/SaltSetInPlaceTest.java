package idex.uid2.salts;

import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rotations applied to a live set in place give exactly the set a fresh load gives (the newest snapshot plus the
 * rows rotated since), and a snapshot read across a change is thrown away instead of stored.
 */
class SaltSetInPlaceTest {

    @TempDir
    Path dir;

    @Test
    void aLiveSetKeptByApplyingRotationsEqualsAFreshLoad() throws IOException {
        try (TestServer server = TestServer.start(dir, 4096)) {
            SaltStore store = new SaltStore(server.database().jdbi());
            LiveSalts live = new LiveSalts(store);
            SaltRotation rotation = new SaltRotation(server.database().jdbi());
            long now = System.currentTimeMillis();
            for (int round = 1; round <= 6; round++) {
                assertThat(rotation.rotate(0.05, 0, now + round * 1000L).rotated()).isEqualTo(205);
                assertThat(live.refresh()).isTrue();
                assertThat(bytes(live.current())).as("round %d", round).isEqualTo(bytes(store.loadAll()));
            }
            // The time index follows: the last rotation's buckets are the newest.
            SaltBuckets.TimeIndex index = live.current().timeIndex();
            int rank = index.firstRankAtOrAfter(now + 6000L);
            assertThat(index.count() - rank).isEqualTo(205);
            assertThat(index.lastUpdatedAtRank(index.count() - 1)).isEqualTo(now + 6000L);
            live.close();
        }
    }

    @Test
    void aSnapshotReadWhileTheSetChangedIsNotStored() {
        try (TestServer server = TestServer.start(dir, 1024)) {
            SaltStore store = new SaltStore(server.database().jdbi());
            SaltBuckets set = store.loadAll();
            long stored = server.database().jdbi().withHandle(h ->
                    SaltSnapshots.newestGeneration(h, set.epoch(), Long.MAX_VALUE)).orElseThrow();
            new SaltRotation(server.database().jdbi()).rotate(0.5, 0, System.currentTimeMillis());
            set.apply(store.changedSince(set.generation()), set.generation() + 1);

            assertThat(SaltSnapshots.write(server.database().jdbi(), set, () -> false)).isFalse();
            int parts = server.database().jdbi().withHandle(h -> h.createQuery(
                    "SELECT count(*) FROM uid2_salt_snapshot WHERE generation = :g").bind("g", set.generation())
                    .mapTo(Integer.class).one());
            assertThat(parts).isZero();
            assertThat(server.database().jdbi().withHandle(h ->
                    SaltSnapshots.newestGeneration(h, set.epoch(), Long.MAX_VALUE)).orElseThrow()).isEqualTo(stored);

            assertThat(SaltSnapshots.write(server.database().jdbi(), set, () -> true)).isTrue();
            assertThat(server.database().jdbi().withHandle(h ->
                    SaltSnapshots.newestGeneration(h, set.epoch(), Long.MAX_VALUE)).orElseThrow()).isEqualTo(set.generation());
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
