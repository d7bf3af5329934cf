package idex.exchange.jobs.translate;

import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.identity.Identifier;
import idex.uid2.Uid2Scope;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.ordered;
import static idex.exchange.jobs.translate.Fixtures.withholding;
import static org.assertj.core.api.Assertions.assertThat;

/** Identity filters (spec §3) remove identifiers before anything is written. */
class IdentityFilterTranslationTest {

    private static final JobMapping EMAIL_AND_CUSTOMER = JobMapping.identities(
            ordered("email", "EMAIL_SHA256", "custId", "crmId"), Map.of("firstName", "givenName"));

    private static RowTranslation compile(JobMapping mapping, WithheldIdentifiers withheld) {
        return RowTranslation.compile(mapping, List.of("email", "custId", "firstName"), Fixtures.PRODUCER,
                Fixtures.DESTINATION, withheld, Uid2Scope.UID2);
    }

    private static List<List<String>> translate(RowTranslation t, String row) throws IOException {
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(Fixtures.uidSnapshot(Uid2Scope.UID2), null, out);
        translator.translate(fields(row), 2);
        translator.finish();
        return out.rows;
    }

    @Test
    void aSourceIdentifierThePublisherWithholdsIsNotSentEvenHashed() throws IOException {
        RowTranslation t = compile(EMAIL_AND_CUSTOMER, withholding("email"));
        assertThat(t.outputHeader()).containsExactly("crmId", "givenName");
        assertThat(translate(t, "a@x.com,C1,Jane")).containsExactly(List.of("C1", "Jane"));
        assertThat(t.notes()).anySatisfy(n -> assertThat(n).contains("Identity filters withhold").contains("email → EMAIL_SHA256"));
    }

    @Test
    void aDestinationIdentifierTheSubscriberWithholdsIsNotSent() throws IOException {
        RowTranslation t = compile(EMAIL_AND_CUSTOMER, withholding("crmId"));
        assertThat(t.outputHeader()).containsExactly("EMAIL_SHA256", "givenName");
        assertThat(translate(t, "test@example.com,C1,Jane")).containsExactly(
                List.of("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", "Jane"));
    }

    @Test
    void withholdingARawUidAlsoRemovesItsBucketColumn() throws IOException {
        JobMapping mapping = JobMapping.identities(ordered("email", "UID2", "custId", "crmId"), null);
        assertThat(compile(mapping, withholding("UID2")).outputHeader()).containsExactly("crmId");
        assertThat(compile(mapping, withholding("UID2_BUCKET")).outputHeader()).containsExactly("crmId");
        assertThat(compile(mapping, WithheldIdentifiers.NONE).outputHeader()).containsExactly("UID2", "UID2_BUCKET", "crmId");
    }

    @Test
    void aRowWhoseOnlyIdentifierIsWithheldIsNotSent() throws IOException {
        RowTranslation t = compile(EMAIL_AND_CUSTOMER, withholding("email"));
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, null, out);
        assertThat(translator.translate(fields("a@x.com,,Jane"), 2)).isNull();
        translator.finish();
        assertThat(out.rows).isEmpty();
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(1, 0, 0, 0));
        assertThat(translator.skipped().byKey()).containsExactly(Map.entry("noMappedIdentifierValue", 1L));
    }

    @Test
    void whenEveryIdentifierIsWithheldNothingIsSentNotEvenAttributes() throws IOException {
        RowTranslation t = compile(EMAIL_AND_CUSTOMER, withholding("email", "crmId"));
        assertThat(t.sendsRows()).isFalse();
        assertThat(t.outputHeader()).isEmpty();
        assertThat(t.notes()).anySatisfy(n -> assertThat(n).contains("no row is sent"));
        assertThat(translate(t, "a@x.com,C1,Jane")).isEmpty();
    }

    @Test
    void filtersDoNotTouchWhatGoesToTheIdentityStore() {
        RowTranslation t = compile(EMAIL_AND_CUSTOMER, withholding("email", "custId"));
        assertThat(t.identifiers(fields(" a@x.com ,C1,Jane")))
                .containsExactly(new Identifier("email", "a@x.com"), new Identifier("custId", "C1"));
    }

    @Test
    void aWithheldGraphDestinationSendsNothingAndNeverQueriesTheStore() throws IOException {
        JobMapping graph = JobMapping.graph(List.of("email"), "crmId", null);
        RowTranslation t = compile(graph, withholding("crmId"));
        assertThat(t.sendsRows()).isFalse();
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, (rows, name) -> {
            throw new AssertionError("no lookup expected");
        }, out);
        translator.translate(fields("a@x.com,C1,Jane"), 2);
        translator.finish();
        assertThat(out.rows).isEmpty();
        assertThat(translator.counts().translatedRecords()).isZero();
        assertThat(translator.skipped().byKey()).containsExactly(Map.entry("withheldByIdentityFilters", 1L));
    }
}
