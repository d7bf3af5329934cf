package idex.uid2.salts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import idex.store.OwnerOnly;
import idex.support.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SaltSnapshotFilesTest {
    private static final String SALT_A = "vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLnss=";
    private static final String SALT_B = "vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLnst=";
    private static final KeyMaterial KEY = new KeyMaterial(2000003, "key12345key12345key12345key12346",
            "salt1234salt1234salt1234salt1235");
    private static final SaltSnapshotMetadata META = new SaltSnapshotMetadata(
            "fOGY/aRE44peL23i+cE9MkJrzmEeNZZziNZBfq7qqk8=", "b", "HF6Qz42HBbVHINxhh191dB09BCuTWyBkNtrNicO4ZCw=");
    private static final long NOW = 1_800_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void readsTheReferenceMetadata() throws IOException {
        assertThat(SaltSnapshotFiles.readMetadata(TestVectors.uid2TestSalts())).isEqualTo(META);
    }

    @Test
    void readsTheReferenceRows() throws IOException {
        List<SaltFileRow> rows = readAll(TestVectors.uid2TestSalts(), NOW);
        assertThat(rows).extracting(SaltFileRow::id).containsExactly(1000000L, 1000001L, 1000002L, 1000003L, 1000004L);
        assertThat(rows.get(0)).isEqualTo(new SaltFileRow(1000000, 1806364800001L, SALT_A, 1814140800000L,
                "vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLnsS=", null, null));
        assertThat(rows.get(1)).isEqualTo(new SaltFileRow(1000001, 1786924800001L, SALT_B, 1812844800000L,
                null, null, null));
        assertThat(rows.get(2)).isEqualTo(new SaltFileRow(1000002, 1798588800001L, null, 1806364800000L, null,
                new KeyMaterial(2100002, "key12345key12345key12345key12340", "salt1234salt1234salt1234salt1230"),
                new KeyMaterial(2000002, "key12345key12345key12345key12345", "salt1234salt1234salt1234salt1234")));
        assertThat(rows.get(3)).isEqualTo(new SaltFileRow(1000003, 1795996800001L, null, 1803772800000L, null,
                KEY, null));
        assertThat(rows.get(4).previousSalt()).isEqualTo("vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLnsw=");
        assertThat(rows.get(4).currentSalt()).isNull();
    }

    @Test
    void reReadingAndWritingTheReferenceReproducesItsCsvLines() throws IOException {
        Path reference = TestVectors.uid2TestSalts();
        List<SaltFileRow> rows = readAll(reference, NOW);
        SaltSnapshotFiles.write(dir, SaltSnapshotFiles.readMetadata(reference), NOW, rows.size(), rows.iterator());

        assertThat(Files.readAllLines(dir.resolve("salts.txt")))
                .isEqualTo(Files.readAllLines(reference.resolve("salts.txt")));
        assertThat(Files.readString(dir.resolve("salts.txt"))).doesNotContain("\r").endsWith("\n");
    }

    @Test
    void writesReferenceShapedMetadata() throws IOException {
        SaltSnapshotFiles.write(dir, META, 1_745_907_348_982L, 1, List.of(saltRow(7)).iterator());

        JsonNode json = new ObjectMapper().readTree(dir.resolve("metadata.json").toFile());
        assertThat(json.get("version").asLong()).isEqualTo(1_745_907_348_982L);
        assertThat(json.get("generated").asLong()).isEqualTo(1_745_907_348L);
        assertThat(json.get("first_level").asText()).isEqualTo(META.firstLevelSalt());
        assertThat(json.get("id_prefix").asText()).isEqualTo("b");
        assertThat(json.get("id_secret").asText()).isEqualTo(META.idSecret());
        assertThat(json.get("salts")).hasSize(1);
        JsonNode snapshot = json.get("salts").get(0);
        assertThat(snapshot.get("effective").asLong()).isEqualTo(1_745_907_348_982L);
        assertThat(snapshot.get("expires").asLong()).isEqualTo(253402329599000L);
        assertThat(snapshot.get("location").asText()).isEqualTo("salts.txt");
        assertThat(snapshot.get("size").asInt()).isEqualTo(1);
        assertThat(dir.toFile().list()).containsExactlyInAnyOrder("metadata.json", "salts.txt"); // no temp files left
    }

    @Test
    void writeThenReadRoundTrips() throws IOException {
        List<SaltFileRow> rows = List.of(
                saltRow(0),
                new SaltFileRow(1, 1, SALT_A, 2, SALT_B, KEY, KEY),
                new SaltFileRow(2, 0, null, 0, null, KEY, null),
                new SaltFileRow(3, 5, null, 6, SALT_A, KEY, new KeyMaterial(0, "0123456789abcdef0123456789ABCDEF", "s")),
                new SaltFileRow(Long.MAX_VALUE / 10, 1, SALT_B, 1, null, null, KEY));
        SaltSnapshotFiles.write(dir, META, NOW, rows.size(), rows.iterator());

        assertThat(SaltSnapshotFiles.readMetadata(dir)).isEqualTo(META);
        assertThat(readAll(dir, NOW)).isEqualTo(rows);
        assertThat(readAll(dir, 0)).as("before it is effective it is still the only snapshot").isEqualTo(rows);
    }

    @Test
    void overwritesAnEarlierExport() throws IOException {
        SaltSnapshotFiles.write(dir, META, NOW, 2, List.of(saltRow(1), saltRow(2)).iterator());
        SaltSnapshotFiles.write(dir, META, NOW + 1, 1, List.of(saltRow(3)).iterator());
        assertThat(readAll(dir, NOW + 1)).containsExactly(saltRow(3));
    }

    @Test
    void theExportedSecretsAreOwnerOnlyEvenWhereAnEarlierExportWasNot() throws IOException {
        Assumptions.assumeTrue(OwnerOnly.posix(dir), "POSIX permissions");
        Files.writeString(dir.resolve("salts.txt"), "old");
        Files.setPosixFilePermissions(dir.resolve("salts.txt"), PosixFilePermissions.fromString("rw-r--r--"));
        SaltSnapshotFiles.write(dir, META, NOW, 1, List.of(saltRow(1)).iterator());
        for (String name : List.of("salts.txt", "metadata.json")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))))
                    .as(name).isEqualTo("rw-------");
        }
    }

    @Test
    void aFailedWriteReplacesNothing() throws IOException {
        SaltSnapshotFiles.write(dir, META, NOW, 1, List.of(saltRow(1)).iterator());

        assertThatThrownBy(() -> SaltSnapshotFiles.write(dir, META, NOW + 1, 3, List.of(saltRow(2)).iterator()))
                .isInstanceOf(SaltFileException.class).hasMessageContaining("expected 3 rows, got 1");
        SaltFileRow neither = new SaltFileRow(9, 1, null, 1, null, null, null);
        assertThatThrownBy(() -> SaltSnapshotFiles.write(dir, META, NOW + 1, 2, List.of(saltRow(2), neither).iterator()))
                .isInstanceOf(SaltFileException.class)
                .hasMessageContaining("row 2 (bucket 9)").hasMessageContaining("neither currentSalt nor current key");
        SaltFileRow emptySalt = new SaltFileRow(9, 1, "", 1, null, KEY, null);
        assertThatThrownBy(() -> SaltSnapshotFiles.write(dir, META, NOW + 1, 1, List.of(emptySalt).iterator()))
                .isInstanceOf(SaltFileException.class).hasMessageContaining("currentSalt is not base64 of 32 bytes");

        assertThat(readAll(dir, NOW)).containsExactly(saltRow(1));
        assertThat(dir.toFile().list()).containsExactlyInAnyOrder("metadata.json", "salts.txt");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "1,x,SALT,2,,,,,,,|line 2: lastUpdated is not a non-negative number: 'x'",
        "1,1,SALT,-2,,,,,,,|line 2: refreshFrom is not a non-negative number: '-2'",
        "1,1,SALT,+2,,,,,,,|line 2: refreshFrom is not a non-negative number",
        "1,1,SALT,2,,,,,,|line 2: expected 11 columns, found 10",
        "1,1,SALT,2,,,,,,,,|line 2: expected 11 columns, found 12",
        "1,1,SALT|line 2: expected 11 columns, found 3",
        "1,1,notbase64,2,,,,,,,|line 2: currentSalt is not base64 of 32 bytes",
        "1,1,SALT,2,vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOLns==,,,,,,|line 2: previousSalt is not base64 of 32 bytes",
        "1,1,,2,SALT,,,,,,|line 2: bucket has neither currentSalt nor current key material",
        "1,1,,2,,7,,salt,,,|line 2: curKeyId, curKey and curKeySalt must be all set or all empty",
        "1,1,SALT,2,,,,,7,key12345key12345key12345key12345,|line 2: prevKeyId, prevKey and prevKeySalt must be all",
        "1,1,,2,,16777216,key12345key12345key12345key12345,s,,,|line 2: curKeyId 16777216 does not fit in 3 bytes",
        "1,1,,2,,7,shortkey,s,,,|line 2: curKey is not 32 printable ASCII characters",
        "1,1,,2,,7,key12345key12345key12345key12345,\"a,b\",,,|line 2: curKeySalt is not printable ASCII",
    })
    void rejectsABadRowNamingItsLine(String badLine, String expectedMessage) throws IOException {
        writeSnapshot(dir, "salts.txt", 3, "0,1," + SALT_A + ",2,,,,,,,\n"
                + badLine.replace("SALT", SALT_B) + "\n"
                + "2,1," + SALT_A + ",2,,,,,,,\n");

        assertThatThrownBy(() -> readAll(dir, NOW))
                .isInstanceOf(SaltFileException.class)
                .hasMessageStartingWith("salts.txt " + expectedMessage.substring(0, expectedMessage.indexOf(':')))
                .hasMessageContaining(expectedMessage);
    }

    @Test
    void errorsDoNotLeakSecrets() throws IOException {
        writeSnapshot(dir, "salts.txt", 1, "1,1,,2,,7,key12345key12345key12345key1234X,\"a,b\",,,\n");
        assertThatThrownBy(() -> readAll(dir, NOW)).hasMessageNotContaining("key1234X").hasMessageNotContaining("a,b");
        assertThat(new SaltFileRow(1, 1, SALT_A, 1, SALT_B, KEY, KEY).toString())
                .doesNotContain(SALT_A, SALT_B, KEY.key(), KEY.salt());
        assertThat(META.toString()).doesNotContain(META.firstLevelSalt(), META.idSecret());
    }

    @Test
    void rejectsARowCountOtherThanTheDeclaredSize() throws IOException {
        writeSnapshot(dir, "salts.txt", 3, "1,1," + SALT_A + ",2,,,,,,,\n2,1," + SALT_A + ",2,,,,,,,\n");
        assertThatThrownBy(() -> readAll(dir, NOW))
                .isInstanceOf(SaltFileException.class)
                .hasMessageContaining("metadata declares 3 buckets but the file has 2 rows");
    }

    @Test
    void picksTheSnapshotInEffect() throws IOException {
        Files.writeString(dir.resolve("metadata.json"), """
                {"version": 3, "generated": 1, "first_level": "f", "id_prefix": "b", "id_secret": "s",
                 "salts": [
                   {"effective": 3000, "expires": 253402329599000, "location": "c.txt", "size": 1},
                   {"effective": 1000, "expires": 253402329599000, "location": "a.txt", "size": 1},
                   {"effective": 2000, "expires": 253402329599000, "location": "b.txt", "size": 1}
                 ]}
                """);
        Files.writeString(dir.resolve("a.txt"), "1,1," + SALT_A + ",2,,,,,,,\n");
        Files.writeString(dir.resolve("b.txt"), "2,1," + SALT_A + ",2,,,,,,,\n");
        Files.writeString(dir.resolve("c.txt"), "3,1," + SALT_A + ",2,,,,,,,\n");

        assertThat(readAll(dir, 2500)).extracting(SaltFileRow::id).containsExactly(2L);
        assertThat(readAll(dir, 2000)).extracting(SaltFileRow::id).containsExactly(2L);
        assertThat(readAll(dir, 1999)).extracting(SaltFileRow::id).containsExactly(1L);
        assertThat(readAll(dir, 99_000)).extracting(SaltFileRow::id).containsExactly(3L);
        assertThat(readAll(dir, 10)).as("none effective yet: the earliest").extracting(SaltFileRow::id)
                .containsExactly(1L);
    }

    @Test
    void findsAnObjectStoreLocationBesideTheMetadata() throws IOException {
        writeSnapshot(dir, "salts/salts.txt.1745907348982", 1, null);
        Files.writeString(dir.resolve("salts.txt.1745907348982"), "1,1," + SALT_A + ",2,,,,,,,\n");
        assertThat(readAll(dir, NOW)).extracting(SaltFileRow::id).containsExactly(1L);
    }

    @Test
    void reportsAMissingSaltFile() throws IOException {
        writeSnapshot(dir, "nowhere.txt", 1, null);
        assertThatThrownBy(() -> readAll(dir, NOW)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("nowhere.txt");
    }

    @Test
    void rejectsIncompleteMetadata() throws IOException {
        Files.writeString(dir.resolve("metadata.json"), "{\"first_level\": \"f\", \"id_prefix\": \"b\"}");
        assertThatThrownBy(() -> SaltSnapshotFiles.readMetadata(dir))
                .isInstanceOf(SaltFileException.class).hasMessageContaining("'id_secret'");
        assertThatThrownBy(() -> readAll(dir, NOW))
                .isInstanceOf(SaltFileException.class).hasMessageContaining("'salts'");
        Files.writeString(dir.resolve("metadata.json"), "[1, 2");
        assertThatThrownBy(() -> SaltSnapshotFiles.readMetadata(dir))
                .isInstanceOf(SaltFileException.class).hasMessageContaining("not valid JSON");
    }

    /** Write and read a production-sized snapshot: {@code -Didex.perf=true}. Prints, never asserts on time. */
    @Test
    @EnabledIfSystemProperty(named = "idex.perf", matches = "true")
    void measureAProductionSizedSnapshot() throws IOException {
        int buckets = 1_048_576;
        Iterator<SaltFileRow> rows = IntStream.range(0, buckets)
                .mapToObj(i -> i % 4 == 0 ? new SaltFileRow(i, 1, null, 2, SALT_B, KEY, null) : saltRow(i)).iterator();
        long start = System.nanoTime();
        SaltSnapshotFiles.write(dir, META, NOW, buckets, rows);
        long written = System.nanoTime();
        long[] count = {0};
        SaltSnapshotFiles.readRows(dir, NOW, row -> count[0]++);
        long read = System.nanoTime();
        assertThat(count[0]).isEqualTo(buckets);
        System.out.printf("salt snapshot of %,d rows (%,d bytes): write %.2f s, read+validate %.2f s%n", buckets,
                Files.size(dir.resolve("salts.txt")), (written - start) / 1e9, (read - written) / 1e9);
    }

    private static SaltFileRow saltRow(long id) {
        return new SaltFileRow(id, 1_700_000_000_001L + id, SALT_A, 1_710_000_000_000L, null, null, null);
    }

    private static List<SaltFileRow> readAll(Path snapshotDir, long now) throws IOException {
        List<SaltFileRow> rows = new ArrayList<>();
        SaltSnapshotFiles.readRows(snapshotDir, now, rows::add);
        return rows;
    }

    private static void writeSnapshot(Path snapshotDir, String location, int size, String csv) throws IOException {
        Files.writeString(snapshotDir.resolve("metadata.json"), """
                {"version": 1, "generated": 1, "first_level": "f", "id_prefix": "b", "id_secret": "s",
                 "salts": [{"effective": 1, "expires": 253402329599000, "location": "%s", "size": %d}]}
                """.formatted(location, size));
        if (csv != null) {
            Files.writeString(snapshotDir.resolve(location), csv);
        }
    }
}
