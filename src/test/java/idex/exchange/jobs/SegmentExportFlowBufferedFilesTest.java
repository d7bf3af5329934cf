package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;

/** Seed 004's whole flow again, with uploads and segment data files going through the page cache (--no-direct-io). */
class SegmentExportFlowBufferedFilesTest extends SegmentExportFlowTest {

    @Override
    JobSettings settings() {
        return super.settings().withDirectIo(false);
    }
}
