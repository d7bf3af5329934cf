package idex.files;

import com.sun.nio.file.ExtendedOpenOption;
import idex.store.OwnerOnly;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * How the server reads and writes its big one-pass files (uploads and segment data files): with direct I/O where the
 * file system allows it, else through the page cache.
 *
 * <p>Why: such a file is written once and read once, soon after, often gigabytes of it. Through the page cache each
 * new byte first needs a page of memory that the kernel must find — on a virtual machine, often fault in from the
 * host, which was measured here at about 3 ns per byte, more than parsing the CSV costs — and every such page evicts
 * one the identity store needs. Direct I/O moves the bytes between the disk and one reused buffer instead (object
 * stores such as MinIO write objects this way for the same reasons). The price is alignment: direct I/O reads and
 * writes whole blocks at block offsets from aligned memory; {@link AlignedFileOutput} and {@link AlignedFileInput}
 * keep to it, so that their users read and write plain streams.
 *
 * <p>Every file created here is owner-only (0600 where the file system has POSIX permissions) from its creation on:
 * the mode is given to the call that creates it, so no other account can open it even for a moment.
 */
public final class FileIo {

    private static final Logger LOG = LoggerFactory.getLogger(FileIo.class);

    /** Through the page cache: what every file system supports. */
    public static final FileIo BUFFERED = new FileIo(false, 1);

    /** Buffers kept for reuse, per size: at most this many bytes of each size wait in the pool. */
    private static final int POOLED_BYTES_PER_SIZE = 16 << 20;

    private final boolean direct;
    private final int alignment;
    /**
     * Buffers of files closed earlier. Direct memory returns to the system only when a full collection finds its
     * buffer unreachable, which may take long; and new memory pays its first touch (see above). So files hand their
     * buffers back, and the next files take them.
     */
    private final Map<Integer, BlockingQueue<ByteBuffer>> pool = new ConcurrentHashMap<>();

    private FileIo(boolean direct, int alignment) {
        this.direct = direct;
        this.alignment = alignment;
    }

    /**
     * Direct I/O for files in `dir` if `wanted` and the file system takes it (tried once, on a probe file), else
     * {@link #BUFFERED}: tmpfs, for one, refuses direct I/O, and so do some platforms. A missing `dir` is created
     * owner-only (0700); the server hands in its files directory already checked by {@link OwnerOnly#directory}.
     */
    public static FileIo forDirectory(Path dir, boolean wanted) {
        if (!wanted) {
            return BUFFERED;
        }
        try {
            Files.createDirectories(dir, OwnerOnly.dirAttributes(dir));
            long block = Files.getFileStore(dir).getBlockSize();
            if (block < 512 || block > AlignedFileOutput.CHUNK || Long.bitCount(block) != 1) {
                throw new IOException("unusual block size " + block);
            }
            FileIo io = new FileIo(true, (int) block);
            Path probe = Files.createTempFile(dir, "direct-io-", ".probe", OwnerOnly.fileAttributes(dir));
            try (FileChannel ch = io.openWrite(probe, List.of(StandardOpenOption.WRITE))) {
                ByteBuffer b = io.newBuffer(io.alignment);
                ch.write(b, 0);
            } finally {
                Files.deleteIfExists(probe);
            }
            LOG.info("Job files in {} use direct I/O ({}-byte blocks)", dir, block);
            return io;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            LOG.info("Direct I/O is not available in {} ({}): job files go through the page cache", dir, e.toString());
            return BUFFERED;
        }
    }

    public boolean direct() {
        return direct;
    }

    /** What offsets and lengths of reads and writes must be multiples of (1 without direct I/O). */
    public int alignment() {
        return alignment;
    }

    /** A new file (it must not exist), owner-only from its creation, open for writing. */
    FileChannel openNew(Path path) throws IOException {
        return openWrite(path, List.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                OwnerOnly.fileAttributes(path));
    }

    FileChannel openRead(Path path) throws IOException {
        return direct ? FileChannel.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)
                : FileChannel.open(path, StandardOpenOption.READ);
    }

    /** Opens `path` for writing with `options`, plus direct I/O if this FileIo has it; `create` applies to a new file. */
    private FileChannel openWrite(Path path, List<OpenOption> options, FileAttribute<?>... create) throws IOException {
        Set<OpenOption> all = new HashSet<>(options);
        if (direct) {
            all.add(ExtendedOpenOption.DIRECT);
        }
        return FileChannel.open(path, all, create);
    }

    /** An aligned direct buffer of `capacity` bytes (a multiple of the alignment), cleared; from the pool if it has one. */
    ByteBuffer newBuffer(int capacity) {
        ByteBuffer pooled = pooled(capacity).poll();
        if (pooled != null) {
            return pooled.clear();
        }
        return ByteBuffer.allocateDirect(capacity + alignment).alignedSlice(alignment).limit(capacity).slice();
    }

    /** Gives a buffer back for reuse; its holder no longer touches it. */
    void release(ByteBuffer buffer) {
        pooled(buffer.capacity()).offer(buffer);
    }

    private BlockingQueue<ByteBuffer> pooled(int capacity) {
        return pool.computeIfAbsent(capacity, c -> new ArrayBlockingQueue<>(Math.max(1, POOLED_BYTES_PER_SIZE / c)));
    }

    /** Daemon threads for the blocking reads and writes done on a file's behalf, as many as are waited for at once. */
    static ExecutorService threads(String name) {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    long alignDown(long position) {
        return position - position % alignment;
    }

    long alignUp(long position) {
        return alignDown(position + alignment - 1);
    }
}
