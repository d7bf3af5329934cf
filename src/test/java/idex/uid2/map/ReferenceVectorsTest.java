package idex.uid2.map;

import static org.assertj.core.api.Assertions.assertThat;

import idex.support.TestVectors;
import idex.uid2.salts.BucketIds;
import idex.uid2.salts.SaltFileRow;
import idex.uid2.salts.SaltSnapshotFiles;
import idex.uid2.salts.SaltSnapshotMetadata;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The results the reference operator gives with its shipped test salts (src/test/resources/vectors/uid2-test-salts). */
class ReferenceVectorsTest {
    private static final int SCOPE_UID2 = 0;
    private static final int ENV_TEST = 0;

    private static SaltSnapshotMetadata metadata;
    private static final List<SaltFileRow> buckets = new ArrayList<>();

    @BeforeAll
    static void loadSalts() throws Exception {
        metadata = SaltSnapshotFiles.readMetadata(TestVectors.uid2TestSalts());
        SaltSnapshotFiles.readRows(TestVectors.uid2TestSalts(), System.currentTimeMillis(), buckets::add);
        assertThat(buckets).hasSize(5);
    }

    @Test
    void emailInAKeyMaterialBucketMapsToRawUidV4() {
        assertThat(mapEmail("user@example.com"))
                .containsExactly("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf", "bv3WM92zaA");
    }

    @Test
    void gmailAddressInASaltBucketMapsToRawUidV2() {
        assertThat(mapEmail("Jane.Doe+x@Gmail.com"))
                .containsExactly("Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=", "b1aZVGl7aB");
    }

    @Test
    void invalidEmailIsNotMapped() {
        assertThat(IdentityNormalizer.normalizeEmail("bad")).isNull();
    }

    /** advertising id and bucket id, the way the map endpoints will compose the pieces. */
    private static List<String> mapEmail(String raw) {
        IdentityHasher hasher = IdentityHasher.forThread();
        String normalized = IdentityNormalizer.normalizeEmail(raw);
        byte[] flh = hasher.firstLevelHash(hasher.identityHash(normalized),
                metadata.firstLevelSalt().getBytes(StandardCharsets.US_ASCII));
        SaltFileRow bucket = buckets.get(IdentityHasher.bucketIndex(flh, buckets.size()));
        byte[] rawUid = bucket.currentSalt() != null
                ? hasher.rawUidV2(flh, bucket.currentSalt().getBytes(StandardCharsets.US_ASCII))
                : hasher.rawUidV4(flh, bucket.currentKey(), IdentityType.EMAIL, SCOPE_UID2, ENV_TEST);
        return List.of(Base64.getEncoder().encodeToString(rawUid), BucketIds.of(metadata).encode(bucket.id()));
    }
}
