package idex.support;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * The test vectors the tests read, kept in the repository (src/test/resources/vectors) so that a clone anywhere
 * builds: nothing is looked up beside the checkout.
 */
public final class TestVectors {

    private TestVectors() {
    }

    /** The reference operator's shipped test salts (5 buckets; expected results in its README.md). */
    public static Path uid2TestSalts() {
        return directory("vectors/uid2-test-salts");
    }

    /** A directory of the test classpath as a path: `idex uid2 salts import` and the snapshot reader take a directory. */
    private static Path directory(String name) {
        URL url = TestVectors.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException(name + " is not on the test classpath (src/test/resources/" + name + ")");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
