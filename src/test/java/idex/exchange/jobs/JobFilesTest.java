package idex.exchange.jobs;

import idex.exchange.jobs.store.JobFiles;
import idex.store.OwnerOnly;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The job files layout creates its directories and copies owner-only. */
class JobFilesTest {

    @TempDir
    Path dir;

    @Test
    void aJobsDirectoriesAreCreatedOwnerOnly() throws IOException {
        Assumptions.assumeTrue(OwnerOnly.posix(dir), "POSIX permissions");
        JobFiles files = new JobFiles(dir);
        Path part = files.partial(7);
        assertThat(part.getParent()).isEqualTo(files.jobDir(7));
        assertThat(mode(dir.resolve("jobs"))).isEqualTo("rwx------");
        assertThat(mode(files.jobDir(7))).isEqualTo("rwx------");
        JobFiles.createDirectories(files.outputDir(8));
        assertThat(mode(files.jobDir(8))).isEqualTo("rwx------");
        assertThat(mode(files.outputDir(8))).isEqualTo("rwx------");
    }

    @Test
    void aCopyIsANewOwnerOnlyFileWithTheSameContent() throws IOException {
        Path source = Files.write(dir.resolve("upload.csv"), "email\nann@example.com\n".getBytes());
        Path target = dir.resolve("copy.csv");
        JobFiles.copyNew(source, target);
        assertThat(target).hasSameBinaryContentAs(source);
        assertThatThrownBy(() -> JobFiles.copyNew(source, target)).isInstanceOf(FileAlreadyExistsException.class);
        Assumptions.assumeTrue(OwnerOnly.posix(dir), "POSIX permissions");
        assertThat(mode(target)).isEqualTo("rw-------");
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
