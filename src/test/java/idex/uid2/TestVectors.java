package idex.uid2;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the shared test vectors: {@code -Didex.shared.dir=...} if given, else {@code ../shared} next to the checkout
 * (a clone at /X/main has them at /X/shared), else /work/shared.
 */
public final class TestVectors {
    private TestVectors() {
    }

    public static Path uid2TestSalts() {
        return sharedDir().resolve("vectors").resolve("uid2-test-salts");
    }

    public static Path sharedDir() {
        String configured = System.getProperty("idex.shared.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path besideCheckout = Path.of("..", "shared").toAbsolutePath().normalize();
        if (Files.isDirectory(besideCheckout.resolve("vectors"))) {
            return besideCheckout;
        }
        return Path.of("/work/shared");
    }
}
