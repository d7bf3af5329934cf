package idex.exchange.jobs.translate;

import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.identity.Identifier;
import idex.uid2.Uid2Scope;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.withholding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** sourceIdentifiers + destinationIdentifier: one row per destination value of the person found (spec §4.3). */
class GraphTranslationTest {

    /** A tiny identity graph: each person is a set of identifiers; lookups are recorded. */
    private static final class FakeGraph implements GraphLookup {
        final List<Set<Identifier>> persons = new ArrayList<>();
        final List<Integer> batchSizes = new ArrayList<>();
        final List<List<Identifier>> queried = new ArrayList<>();

        FakeGraph person(Identifier... identifiers) {
            persons.add(Set.of(identifiers));
            return this;
        }

        @Override
        public List<List<String>> destinationValues(List<List<Identifier>> rows, String destinationIdentifier) {
            batchSizes.add(rows.size());
            queried.addAll(rows);
            List<List<String>> answer = new ArrayList<>();
            for (List<Identifier> row : rows) {
                Set<String> values = new LinkedHashSet<>();
                for (Set<Identifier> person : persons) {
                    if (row.stream().anyMatch(person::contains)) {
                        person.stream().filter(i -> i.name().equals(destinationIdentifier)).map(Identifier::value)
                                .sorted().forEach(values::add);
                    }
                }
                answer.add(List.copyOf(values));
            }
            return answer;
        }
    }

    private static Identifier id(String name, String value) {
        return new Identifier(name, value);
    }

    private static RowTranslation compile(WithheldIdentifiers withheld) {
        return RowTranslation.compile(JobMapping.graph(List.of("email", "custId"), "crmId", Map.of("firstName", "givenName")),
                List.of("email", "custId", "phone", "firstName"), Fixtures.PRODUCER, Fixtures.DESTINATION, withheld,
                Uid2Scope.UID2);
    }

    @Test
    void eachDestinationValueOfTheMatchedPersonBecomesARowAndUnmatchedRowsAreNotSent() throws IOException {
        FakeGraph graph = new FakeGraph()
                .person(id("email", "a@x.com"), id("crmId", "CRM-1"), id("crmId", "CRM-2"))
                .person(id("custId", "C2"), id("crmId", "CRM-3"))
                .person(id("email", "nocrm@x.com"), id("phone", "+15551234567"));
        RowTranslation t = compile(WithheldIdentifiers.NONE);
        assertThat(t.isGraph()).isTrue();
        assertThat(t.outputHeader()).containsExactly("crmId", "givenName");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, graph, out);
        assertThat(translator.translate(fields(" a@x.com ,,,Ann"), 2)).isNull();
        assertThat(translator.translate(fields("unknown@x.com,C2,,Bob"), 3)).isNull();   // found by custId
        assertThat(translator.translate(fields("nobody@x.com,,,Cid"), 4)).isNull();      // no such person
        assertThat(translator.translate(fields("nocrm@x.com,,,Dee"), 5)).isNull();       // person without crmId
        assertThat(translator.translate(fields(",,+15551234567,Eve"), 6)).isNull();      // no source identifier
        assertThat(out.rows).isEmpty(); // still pending: looked up by batch
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("CRM-1", "Ann"), List.of("CRM-2", "Ann"), List.of("CRM-3", "Bob"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(5, 2, 3, 0));
        assertThat(translator.skipped().byKey()).containsExactly(Map.entry("noMappedIdentifierValue", 1L),
                Map.entry("notInIdentityGraph", 2L));
        assertThat(graph.queried.get(0)).containsExactly(id("email", "a@x.com")); // trimmed, empty ones left out
        assertThat(graph.queried.get(1)).containsExactly(id("email", "unknown@x.com"), id("custId", "C2"));
        assertThat(graph.queried).hasSize(4); // the row without a source identifier is never looked up
    }

    @Test
    void rowsAreLookedUpInBatches() throws IOException {
        FakeGraph graph = new FakeGraph().person(id("custId", "C7"), id("crmId", "CRM-7"));
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = compile(WithheldIdentifiers.NONE).translator(null, graph, out);
        int rows = 2 * RowTranslation.GRAPH_BATCH_ROWS + 500;
        for (int i = 0; i < rows; i++) {
            translator.translate(fields(",C" + i + ",,n" + i), i + 2);
        }
        assertThat(graph.batchSizes).containsExactly(RowTranslation.GRAPH_BATCH_ROWS, RowTranslation.GRAPH_BATCH_ROWS);
        translator.finish();
        assertThat(graph.batchSizes).containsExactly(RowTranslation.GRAPH_BATCH_ROWS, RowTranslation.GRAPH_BATCH_ROWS, 500);
        assertThat(out.rows).containsExactly(List.of("CRM-7", "n7"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(rows, 1, 1, 0));
    }

    @Test
    void duplicateAndEmptyValuesFromTheLookupAreNotSentTwice() throws IOException {
        GraphLookup sloppy = (rows, name) -> rows.stream().map(r -> List.of("V", "", "V", "W")).toList();
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = compile(WithheldIdentifiers.NONE).translator(null, sloppy, out);
        translator.translate(fields("a@x.com,,,Ann"), 2);
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("V", "Ann"), List.of("W", "Ann"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(1, 1, 2, 0));
    }

    @Test
    void badRowsAreReportedAtOnceAndNeverLookedUp() throws IOException {
        FakeGraph graph = new FakeGraph();
        RowTranslator translator = compile(WithheldIdentifiers.NONE).translator(null, graph, new Fixtures.Captured());
        assertThat(translator.translate(fields("a@x.com,C1"), 2).reason()).startsWith("wrong column count");
        assertThat(translator.translate(fields(",,,Ann"), 3)).isEqualTo(new BadRow(3, "no identifier value"));
        translator.finish();
        assertThat(graph.batchSizes).isEmpty();
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(2, 0, 0, 2));
    }

    @Test
    void withheldSourceIdentifiersStillFindThePersonBecauseTheyAreNotSent() throws IOException {
        FakeGraph graph = new FakeGraph().person(id("email", "a@x.com"), id("crmId", "CRM-1"));
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = compile(withholding("email")).translator(null, graph, out);
        translator.translate(fields("a@x.com,,,Ann"), 2);
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("CRM-1", "Ann"));
    }

    @Test
    void aLookupThatAnswersTheWrongNumberOfRowsFailsTheRun() throws IOException {
        RowTranslator translator = compile(WithheldIdentifiers.NONE).translator(null, (rows, name) -> List.of(),
                new Fixtures.Captured());
        translator.translate(fields("a@x.com,,,Ann"), 2);
        assertThatThrownBy(translator::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("0 rows for 1");
    }

    @Test
    void graphTranslationNeedsALookup() {
        assertThatThrownBy(() -> compile(WithheldIdentifiers.NONE).translator(null, null, new Fixtures.Captured()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
