package idex.support;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds `shared/` (seeds, vectors) beside the repository, wherever the clone is. */
public final class SharedFiles {

    private SharedFiles() {
    }

    public static Path vectors(String name) {
        for (Path p : new Path[]{Path.of("..", "shared", "vectors", name), Path.of("/work/shared/vectors", name)}) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("shared/vectors/" + name + " not found beside the repository");
    }
}
