package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.OutputFile;
import idex.exchange.jobs.store.JobFiles;
import de.siegmar.fastcsv.writer.CsvWriter;
import idex.auth.KeyHash;
import idex.exchange.jobs.translate.OutputRows;
import idex.files.AlignedFileOutput;
import idex.files.FileIo;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a run's rows as segment data files (spec §4.3): RFC 4180 CSV, the header in every file, a new file every
 * `rowsPerFile` rows. Names are opaque — a random token of the run and the file's place — so that a name tells
 * nothing about the job and a run never writes over another run's file. Rows go to disk through FastCSV's buffer and
 * an {@link AlignedFileOutput} (direct I/O where available): memory stays flat whatever the size of the segment.
 */
final class SegmentFileWriter implements OutputRows, Closeable {

    private final Path dir;
    private final String[] header;
    private final int rowsPerFile;
    private final String runToken = KeyHash.randomToken(12);
    private final List<OutputFile> done = new ArrayList<>();
    private final FileIo io;
    private CsvWriter current;
    private AlignedFileOutput currentFile;
    private Path currentPath;
    /** Starts "full", so that the first row opens the first file through the same test as every later roll. */
    private long rowsInFile;

    SegmentFileWriter(FileIo io, Path dir, List<String> header, int rowsPerFile) {
        this.io = io;
        this.dir = dir;
        this.header = header.toArray(String[]::new);
        this.rowsPerFile = rowsPerFile;
        this.rowsInFile = rowsPerFile;
    }

    @Override
    public void write(String[] row) throws IOException {
        // one test only: a branch first taken in a later run would make the JIT throw away the compiled loop
        if (rowsInFile == rowsPerFile) {
            roll();
        }
        current.writeRecord(row);
        rowsInFile++;
    }

    private void roll() throws IOException {
        closeCurrent();
        currentPath = dir.resolve(runToken + "-" + String.format("%04d", done.size() + 1) + ".csv");
        currentFile = new AlignedFileOutput(io, currentPath);
        current = CsvWriter.builder().bufferSize(64 * 1024).build(currentFile, StandardCharsets.UTF_8);
        current.writeRecord(header);
        rowsInFile = 0;
    }

    private void closeCurrent() throws IOException {
        if (current == null) {
            return;
        }
        current.close();
        currentFile.close();
        JobFiles.sync(currentPath);
        done.add(new OutputFile(currentPath.getFileName().toString(), done.size() + 1, rowsInFile, Files.size(currentPath)));
        current = null;
    }

    /** Closes the last file and forces every file to disk. */
    @Override
    public void close() throws IOException {
        closeCurrent();
    }

    /** The files written, in order; complete once {@link #close()} has returned. */
    List<OutputFile> files() {
        return List.copyOf(done);
    }

    /** Removes what this run wrote (a run that lost its job to another node). */
    void discard() {
        if (current != null) {
            currentFile.abandon();
        }
        if (currentPath != null) {
            JobFiles.deleteQuietly(currentPath);
        }
        done.forEach(f -> JobFiles.deleteQuietly(dir.resolve(f.name())));
    }
}
