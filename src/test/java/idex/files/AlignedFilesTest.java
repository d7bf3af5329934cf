package idex.files;

import idex.store.OwnerOnly;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static idex.files.AlignedFileOutput.CHUNK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Files written and read in aligned chunks come back byte for byte, whatever their length, wherever a read starts and
 * however the writes were cut — with direct I/O where the test's directory allows it, and through the page cache.
 */
class AlignedFilesTest {

    private static final int[] SIZES = {0, 1, 511, 4095, 4096, 4097, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 4097};

    @TempDir
    Path dir;

    private List<FileIo> modes() {
        return List.of(FileIo.forDirectory(dir, true), FileIo.BUFFERED);
    }

    @Test
    void whatIsWrittenInPiecesOfAnySizeIsReadBackFromAnyStart() throws IOException {
        int file = 0;
        for (FileIo io : modes()) {
            for (int size : SIZES) {
                byte[] content = random(size, size);
                Path path = dir.resolve("f" + file++);
                try (AlignedFileOutput out = new AlignedFileOutput(io, path)) {
                    writeInPieces(out, content, new SplittableRandom(size));
                    out.close();
                    assertThat(out.written()).isEqualTo(size);
                }
                assertThat(Files.readAllBytes(path)).as("%s, %d bytes", io.direct(), size).isEqualTo(content);
                for (long start : new long[]{0, 1, 4095, 4096, CHUNK + 3L, size - 1L, size, size + 10L}) {
                    if (start < 0) {
                        continue;
                    }
                    byte[] expected = Arrays.copyOfRange(content, (int) Math.min(start, size), size);
                    try (AlignedFileInput in = AlignedFileInput.open(io, path, start)) {
                        assertThat(readInPieces(in, new SplittableRandom(start))).as("%s, %d bytes from %d",
                                io.direct(), size, start).isEqualTo(expected);
                    }
                    try (AlignedFileInput in = AlignedFileInput.open(io, path, start, 8192)) {
                        ByteArrayOutputStream viewed = new ByteArrayOutputStream();
                        for (ByteBuffer view; (view = in.nextChunk(5000)) != null; ) {
                            byte[] b = new byte[view.remaining()];
                            view.get(b);
                            viewed.write(b);
                        }
                        assertThat(viewed.toByteArray()).as("views: %s, %d bytes from %d", io.direct(), size, start)
                                .isEqualTo(expected);
                    }
                }
            }
        }
    }

    @Test
    void aFileIsReadWhileItIsWrittenAndEndsWhereTheWriterClosedIt() throws IOException {
        int file = 0;
        for (FileIo io : modes()) {
            for (int size : SIZES) {
                byte[] content = random(size, ~size);
                Path path = dir.resolve("g" + file++);
                AlignedFileOutput out = new AlignedFileOutput(io, path);
                SplittableRandom pieces = new SplittableRandom(size);
                int[] offered = {0};
                boolean[] closed = {false};
                // The writer goes on only when the reader waits for more, as an upload that arrives slowly does.
                AlignedFileInput.Bound bound = new AlignedFileInput.Bound() {
                    @Override
                    public long awaitBeyond(long position) throws IOException {
                        while (out.written() <= position && !closed[0]) {
                            int n = Math.min(size - offered[0], 1 + pieces.nextInt(CHUNK / 3));
                            out.write(content, offered[0], n);
                            offered[0] += n;
                            if (offered[0] == size) {
                                out.close();
                                closed[0] = true;
                            }
                        }
                        return out.written();
                    }

                    @Override
                    public long readableNow() {
                        return out.written();
                    }
                };
                try (AlignedFileInput in = AlignedFileInput.following(io, path, bound)) {
                    assertThat(readInPieces(in, new SplittableRandom(size))).as("%s, %d bytes", io.direct(), size)
                            .isEqualTo(content);
                }
            }
        }
    }

    @Test
    void aFileShorterThanItsBoundSaysSo() throws IOException {
        for (FileIo io : modes()) {
            Path path = dir.resolve(io.direct() ? "short-direct" : "short-buffered");
            try (AlignedFileOutput out = new AlignedFileOutput(io, path)) {
                out.write(random(100, 1));
            }
            AlignedFileInput.Bound claimsMore = new AlignedFileInput.Bound() {
                @Override
                public long awaitBeyond(long position) {
                    return 5000;
                }

                @Override
                public long readableNow() {
                    return 5000;
                }
            };
            try (AlignedFileInput in = AlignedFileInput.following(io, path, claimsMore)) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class).hasMessageContaining("ends at 100");
            }
        }
    }

    @Test
    void anAbandonedFileKeepsOnlyWholeChunksAndANewFileMustNotExist() throws IOException {
        for (FileIo io : modes()) {
            Path path = dir.resolve(io.direct() ? "cut-direct" : "cut-buffered");
            AlignedFileOutput out = new AlignedFileOutput(io, path);
            out.write(random(CHUNK + 10, 2));
            out.abandon();
            out.close(); // nothing more happens
            assertThat(Files.size(path)).isEqualTo(CHUNK);
            assertThatThrownBy(() -> new AlignedFileOutput(io, path)).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> out.write(1)).hasMessageContaining("closed"); // its buffers are pooled again
            AlignedFileInput in = AlignedFileInput.open(io, path, 0);
            assertThat(in.read()).isNotNegative();
            in.close();
            assertThatThrownBy(in::read).hasMessageContaining("closed");
        }
    }

    @Test
    void aMissingDirectoryIsCreatedOwnerOnlyAndEveryNewFileIsOwnerOnly() throws IOException {
        Assumptions.assumeTrue(OwnerOnly.posix(dir), "POSIX permissions");
        Path sub = dir.resolve("a/b");
        FileIo direct = FileIo.forDirectory(sub, true);
        assertThat(mode(dir.resolve("a"))).isEqualTo("rwx------");
        assertThat(mode(sub)).isEqualTo("rwx------");
        try (Stream<Path> left = Files.list(sub)) {
            assertThat(left).as("the direct I/O probe is gone").isEmpty();
        }
        for (FileIo io : List.of(direct, FileIo.BUFFERED)) {
            Path path = sub.resolve(io.direct() ? "new-direct" : "new-buffered");
            try (AlignedFileOutput out = new AlignedFileOutput(io, path)) {
                assertThat(mode(path)).as("while written, direct: %s", io.direct()).isEqualTo("rw-------");
                out.write(random(10, 3));
            }
            assertThat(mode(path)).as("once written, direct: %s", io.direct()).isEqualTo("rw-------");
        }
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    private static void writeInPieces(AlignedFileOutput out, byte[] content, SplittableRandom random) throws IOException {
        int at = 0;
        while (at < content.length) {
            int n = Math.min(content.length - at, 1 + random.nextInt(300_000));
            switch (random.nextInt(3)) {
                case 0 -> out.write(content, at, n);
                case 1 -> {
                    ByteBuffer src = ByteBuffer.wrap(content, at, n);
                    out.write(src);
                    assertThat(src.hasRemaining()).isFalse();
                }
                default -> {
                    n = 1;
                    out.write(content[at]);
                }
            }
            at += n;
        }
    }

    private static byte[] readInPieces(InputStream in, SplittableRandom random) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        while (true) {
            if (random.nextInt(5) == 0) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                read.write(b);
            } else {
                byte[] buf = new byte[1 + random.nextInt(200_000)];
                int n = in.read(buf, 0, buf.length);
                if (n < 0) {
                    break;
                }
                read.write(buf, 0, n);
            }
        }
        assertThat(in.read()).isEqualTo(-1);
        return read.toByteArray();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
