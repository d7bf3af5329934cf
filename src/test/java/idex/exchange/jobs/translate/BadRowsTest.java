package idex.exchange.jobs.translate;

import idex.exchange.identity.ValueNormalizer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.compile;
import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.ordered;
import static org.assertj.core.api.Assertions.assertThat;

/** Rows that are skipped, counted and listed with their line numbers (spec §4.3). */
class BadRowsTest {

    private final RowTranslation translation = compile(
            JobMapping.identities(ordered("email", "EMAIL_SHA256", "phone", "PHONE_SHA256"), Map.of("firstName", "givenName")),
            "email,phone,custId,firstName");

    @Test
    void wrongColumnCountNoIdentifierAndUnnormalisableValuesAreBadRows() throws IOException {
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator t = translation.translator(null, null, out);
        assertThat(t.translate(fields("a@x.com,+15551234567,C1"), 2))
                .isEqualTo(new BadRow(2, "wrong column count: 3 fields, the header has 4"));
        assertThat(t.translate(fields("a@x.com,+15551234567,C1,Jane,extra"), 3).reason()).startsWith("wrong column count");
        assertThat(t.translate(fields(" ,  , ,Jane"), 4)).isEqualTo(new BadRow(4, "no identifier value"));
        assertThat(t.translate(fields("a@x.com,555 1234,,Jane"), 5)).isEqualTo(new BadRow(5,
                "column phone: not a phone number in E.164 form ('+' and 10 to 15 digits)"));
        assertThat(t.translate(fields("a@x.com,+15551234567,,Jane"), 6)).isNull();
        t.finish();
        assertThat(out.rows).hasSize(1); // a bad value skips the whole row, not just its column
        assertThat(t.counts()).isEqualTo(new TranslationCounts(5, 1, 1, 4));
        assertThat(t.firstBadRows()).extracting(BadRow::line).containsExactly(2L, 3L, 4L, 5L);
    }

    @Test
    void aRowWithOnlyAnUnmappedIdentifierIsNotBad() throws IOException {
        RowTranslator t = translation.translator(null, null, new Fixtures.Captured());
        assertThat(t.translate(fields(",,C1,Jane"), 2)).isNull();
        assertThat(t.counts()).isEqualTo(new TranslationCounts(1, 0, 0, 0));
    }

    @Test
    void onlyTheFirstBadRowsAreListedButAllAreCounted() throws IOException {
        RowTranslator t = translation.translator(null, null, new Fixtures.Captured());
        for (int line = 2; line < 2 + RowTranslator.LISTED_BAD_ROWS + 5; line++) {
            t.translate(fields(",,,"), line);
        }
        assertThat(t.counts().badRecords()).isEqualTo(RowTranslator.LISTED_BAD_ROWS + 5);
        List<BadRow> listed = t.firstBadRows();
        assertThat(listed).hasSize(RowTranslator.LISTED_BAD_ROWS);
        assertThat(listed.get(0).line()).isEqualTo(2);
        assertThat(listed.get(listed.size() - 1).line()).isEqualTo(1 + RowTranslator.LISTED_BAD_ROWS);
        assertThat(listed.get(0)).hasToString("line 2: no identifier value");
    }

    @Test
    void phoneNormalisationAcceptsSeparatorsAndRefusesTheRest() {
        assertThat(ValueNormalizer.e164("+1 (555) 123-4567")).isEqualTo("+15551234567");
        assertThat(ValueNormalizer.e164(" +44.20.7946.0958 ")).isEqualTo("+442079460958");
        assertThat(ValueNormalizer.e164("+1234567890")).isEqualTo("+1234567890");           // 10 digits
        assertThat(ValueNormalizer.e164("+123456789012345")).isEqualTo("+123456789012345");  // 15 digits
        assertThat(ValueNormalizer.e164("+12345-67890-12345")).isEqualTo("+123456789012345");
        for (String bad : new String[] {"5551234567", "+123456789", "+1234567890123456", "+1 234 567 890 123 456",
                "+1 555 CALL NOW", "+1/555/123/4567", "++15551234567", "+1555+1234567", "+", "", " ", "1+5551234567",
                "+1\t5551234567", "+１５５５１２３４５６７"}) {
            assertThat(ValueNormalizer.e164(bad)).as(bad).isNull();
        }
    }

    @Test
    void emailNormalisationTrimsAndLowerCases() {
        assertThat(ValueNormalizer.email("  Jane.Doe+X@Gmail.COM\t")).isEqualTo("jane.doe+x@gmail.com");
        assertThat(ValueNormalizer.email("ÉMILE@Example.com")).isEqualTo("émile@example.com");
    }
}
