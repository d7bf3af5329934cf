package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.OutputFile;
import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.jobs.translate.JobMapping;
import idex.exchange.jobs.translate.RowTranslation;
import idex.exchange.jobs.translate.TranslationCounts;
import idex.files.FileIo;
import idex.support.Eventually;
import idex.uid2.Uid2Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The three threads of an export run: every row once, in order, and a failure anywhere stops the run. */
class ExportPipelineTest {

    private static final Registration SOURCE = registration(AudienceRole.SOURCE);
    private static final Registration DESTINATION = registration(AudienceRole.DESTINATION);
    private static final RowTranslation COPY = RowTranslation.compile(
            JobMapping.identities(Map.of("custId", "crmId"), null), List.of("custId"), SOURCE, DESTINATION,
            WithheldIdentifiers.NONE, Uid2Scope.UID2);

    @TempDir
    Path dir;

    private static Registration registration(AudienceRole role) {
        return new Registration("e", null, null, null, false, false, null, 1, role, "push",
                List.of(new DeclaredIdentifier(role == AudienceRole.SOURCE ? "custId" : "crmId", "string", false)),
                List.of());
    }

    @Test
    void everyRowComesOutOnceInTheOrderOfTheUpload() throws IOException {
        int rows = 10 * RowBatches.BATCH_ROWS + 7; // full batches and a partial one
        SegmentFileWriter writer = new SegmentFileWriter(FileIo.forDirectory(dir, true), dir, COPY.outputHeader(), 4000);
        ExportPipeline.Outcome translated = ExportPipeline.run("test", handler -> {
            for (int i = 0; i < rows; i++) {
                handler.row(new String[] {i % 1000 == 0 ? " " : "c" + i}, i + 2); // every 1000th row is bad
            }
        }, 2, out -> COPY.translator(null, null, out), writer);

        int bad = (rows + 999) / 1000;
        assertThat(translated.counts()).isEqualTo(new TranslationCounts(rows, rows - bad, rows - bad, bad));
        // the first bad rows of both translators, in file order
        assertThat(translated.firstBadRows()).extracting(b -> b.line())
                .containsExactly(LongStream.range(0, bad).map(i -> i * 1000 + 2).boxed().toArray(Long[]::new));
        List<String> lines = new ArrayList<>();
        for (OutputFile f : writer.files()) {
            List<String> content = Files.readAllLines(dir.resolve(f.name()));
            assertThat(content.get(0)).isEqualTo("crmId");
            assertThat(content).hasSize((int) f.rows() + 1);
            lines.addAll(content.subList(1, content.size()));
        }
        assertThat(writer.files()).hasSize(3);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            if (i % 1000 != 0) {
                expected.add("c" + i);
            }
        }
        assertThat(lines).isEqualTo(expected);
    }

    @Test
    void aFailureWhileReadingStopsTheOtherStagesAndIsWhatTheRunThrows() {
        SegmentFileWriter writer = new SegmentFileWriter(FileIo.forDirectory(dir, true), dir, COPY.outputHeader(), 1000);
        assertThatThrownBy(() -> ExportPipeline.run("test", handler -> {
            for (int i = 0; i < 5 * RowBatches.BATCH_ROWS; i++) {
                handler.row(new String[] {"c" + i}, i + 2);
            }
            throw new JobRunner.JobFailure("not UTF-8 after line 5121");
        }, 2, out -> COPY.translator(null, null, out), writer))
                .isInstanceOf(JobRunner.JobFailure.class).hasMessage("not UTF-8 after line 5121");
        assertThat(threadsNamed("test-")).isEmpty();
    }

    @Test
    void aFailureWhileTranslatingReachesTheCallerEvenWhileItStillReads() {
        SegmentFileWriter writer = new SegmentFileWriter(FileIo.forDirectory(dir, true), dir, COPY.outputHeader(), 1000);
        assertThatThrownBy(() -> ExportPipeline.run("test", handler -> {
            for (int i = 0; ; i++) { // endless: only the translating stage's failure ends it
                handler.row(new String[] {"c" + i}, i + 2);
            }
        }, 2, out -> COPY.translator(null, null, row -> {
            if (row[0].equals("c3000")) {
                throw new IOException("lookup failed");
            }
            out.write(row);
        }), writer)).isInstanceOf(IOException.class).hasMessage("lookup failed");
        assertThat(threadsNamed("test-")).isEmpty();
    }

    @Test
    void aFailureWhileWritingReachesTheCaller() throws IOException {
        Path gone = dir.resolve("gone");
        Files.createDirectories(gone);
        SegmentFileWriter writer = new SegmentFileWriter(FileIo.BUFFERED, gone, COPY.outputHeader(), 1000);
        Files.delete(gone); // the first file cannot be created
        assertThatThrownBy(() -> ExportPipeline.run("test", handler -> {
            for (int i = 0; i < 3 * RowBatches.BATCH_ROWS; i++) {
                handler.row(new String[] {"c" + i}, i + 2);
            }
        }, 2, out -> COPY.translator(null, null, out), writer)).isInstanceOf(IOException.class);
        assertThat(threadsNamed("test-")).isEmpty();
    }

    /** Live threads of a pipeline, given the moment a thread needs to end once its pool has stopped. */
    private static List<String> threadsNamed(String prefix) {
        return Eventually.await("the run's threads to end", () -> Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).filter(n -> n.startsWith(prefix)).toList(), List::isEmpty);
    }
}
