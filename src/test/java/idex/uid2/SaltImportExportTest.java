package idex.uid2;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.support.TestVectors;
import idex.support.Uid2Http;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** `idex uid2 salts import` then `export` gives back the reference operator's snapshot, line for line. */
class SaltImportExportTest {

    @Test
    void importThenExportRoundTrips(@TempDir Path dataDir, @TempDir Path out) throws Exception {
        Path vectors = TestVectors.uid2TestSalts();
        // No server is running: admin commands open the store themselves, creating it if needed.
        assertThat(Main.run("uid2", "salts", "import", vectors.toString(), "--data-dir", dataDir.toString())).isZero();
        assertThat(Main.run("uid2", "salts", "export", out.toString(), "--data-dir", dataDir.toString())).isZero();

        assertThat(Files.readAllLines(out.resolve("salts.txt"))).isEqualTo(Files.readAllLines(vectors.resolve("salts.txt")));
        JsonNode meta = Uid2Http.JSON.readTree(out.resolve("metadata.json").toFile());
        JsonNode original = Uid2Http.JSON.readTree(vectors.resolve("metadata.json").toFile());
        for (String field : new String[]{"first_level", "id_prefix", "id_secret"}) {
            assertThat(meta.get(field)).isEqualTo(original.get(field));
        }
        assertThat(meta.get("salts").get(0).get("size").asInt()).isEqualTo(5);
    }

    @Test
    void aBrokenSnapshotIsRefusedAndChangesNothing(@TempDir Path dataDir, @TempDir Path broken, @TempDir Path out) throws Exception {
        Path vectors = TestVectors.uid2TestSalts();
        assertThat(Main.run("uid2", "salts", "import", vectors.toString(), "--data-dir", dataDir.toString())).isZero();
        Files.copy(vectors.resolve("metadata.json"), broken.resolve("metadata.json"));
        Files.writeString(broken.resolve("salts.txt"), Files.readString(vectors.resolve("salts.txt"))
                .replace("1000003,1795996800001", "1000003,not-a-time"));
        assertThat(Main.run("uid2", "salts", "import", broken.toString(), "--data-dir", dataDir.toString())).isNotZero();

        assertThat(Main.run("uid2", "salts", "export", out.toString(), "--data-dir", dataDir.toString())).isZero();
        assertThat(Files.readAllLines(out.resolve("salts.txt"))).isEqualTo(Files.readAllLines(vectors.resolve("salts.txt")));
    }
}
