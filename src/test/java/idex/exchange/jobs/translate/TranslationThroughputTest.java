package idex.exchange.jobs.translate;

import idex.uid2.Uid2Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.ordered;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rough rows/s of one translator thread for typical mappings. Opt-in ({@code -Didex.perf=true}) and print-only:
 * timings on a shared 2-core box are not assertable.
 */
@EnabledIfSystemProperty(named = "idex.perf", matches = "true")
class TranslationThroughputTest {

    private static final int ROWS = 2_000_000;

    @Test
    void measure() throws IOException {
        String[][] rows = new String[10_000][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new String[] {"User" + i + "@Example.com", "+1 555 " + (1_000_000 + i), "C" + i, "Name" + i};
        }
        String header = "email,phone,custId,firstName";
        Map<String, String> attributes = Map.of("firstName", "givenName");
        measure("rename", Fixtures.compile(JobMapping.identities(ordered("email", "workEmail", "custId", "crmId"), attributes), header), rows);
        measure("EMAIL_SHA256 + PHONE_SHA256", Fixtures.compile(JobMapping.identities(
                ordered("email", "EMAIL_SHA256", "phone", "PHONE_SHA256"), attributes), header), rows);
        measure("UID2 (email)", Fixtures.compile(JobMapping.identities(ordered("email", "UID2"), attributes), header), rows);
    }

    private static void measure(String name, RowTranslation translation, String[][] rows) throws IOException {
        UidSnapshot uids = Fixtures.uidSnapshot(Uid2Scope.UID2);
        for (int round = 0; round < 2; round++) { // the first round warms up
            long[] cells = {0};
            RowTranslator translator = translation.translator(uids, null, row -> cells[0] += row.length);
            long start = System.nanoTime();
            for (int i = 0; i < ROWS; i++) {
                translator.translate(rows[i % rows.length], i + 2);
            }
            translator.finish();
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(translator.counts().badRecords()).isZero();
            assertThat(cells[0]).isPositive();
            System.out.printf("%s: %,.0f rows/s (%,.0f rows/min)%n", name, ROWS / seconds, 60 * ROWS / seconds);
        }
    }
}
