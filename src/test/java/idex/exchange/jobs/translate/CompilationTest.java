package idex.exchange.jobs.translate;

import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.identity.Identifier;
import idex.uid2.Uid2Scope;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.DESTINATION;
import static idex.exchange.jobs.translate.Fixtures.PRODUCER;
import static idex.exchange.jobs.translate.Fixtures.compile;
import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.ordered;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What job creation and an upload must refuse, and what they only note for errorDetails. */
class CompilationTest {

    private static InvalidMappingException refused(JobMapping mapping) {
        return refusedByUpload(mapping, "email,phone,custId,firstName,age");
    }

    private static InvalidMappingException refusedByUpload(JobMapping mapping, String header) {
        try {
            compile(mapping, header);
        } catch (InvalidMappingException e) {
            return e;
        }
        throw new AssertionError("expected " + mapping + " with header " + header + " to be refused");
    }

    private static InvalidMappingException refusedAtCreation(JobMapping mapping, Uid2Scope scope) {
        try {
            mapping.validate(PRODUCER, DESTINATION, scope);
        } catch (InvalidMappingException e) {
            return e;
        }
        throw new AssertionError("expected " + mapping + " to be refused");
    }

    @Test
    void aValidMappingPassesJobCreation() {
        assertThatCode(() -> JobMapping.identities(ordered("email", "UID2", "phone", "mobile", "custId", "SHA1"),
                Map.of("firstName", "givenName")).validate(PRODUCER, DESTINATION, Uid2Scope.UID2)).doesNotThrowAnyException();
        assertThatCode(() -> JobMapping.graph(List.of("email"), "crmId", null).validate(PRODUCER, DESTINATION, Uid2Scope.UID2))
                .doesNotThrowAnyException();
    }

    @Test
    void aSourceThatIsNotADeclaredIdentifierOfTheProducer() {
        assertThat(refused(JobMapping.identities(Map.of("Email", "workEmail"), null)).getMessage())
                .isEqualTo("identityMappings: \"Email\" is not an identifier the producer endpoint declares"
                        + " (it declares email, phone, custId).");
        assertThat(refused(JobMapping.identities(Map.of("firstName", "workEmail"), null)).getMessage())
                .contains("\"firstName\" is not an identifier the producer endpoint declares");
    }

    @Test
    void aTargetThatIsNeitherADestinationIdentifierNorAKeyword() {
        assertThat(refusedAtCreation(JobMapping.identities(Map.of("email", "email_sha256"), null), Uid2Scope.UID2).getMessage())
                .isEqualTo("identityMappings \"email\" → \"email_sha256\": \"email_sha256\" is neither an identifier the"
                        + " destination endpoint declares (it declares workEmail, mobile, crmId) nor one of EMAIL_SHA256,"
                        + " PHONE_SHA256, SHA256, SHA1, MD5, UID2.");
        assertThat(refused(JobMapping.identities(Map.of("email", ""), null)).getMessage())
                .contains("needs a destination identifier name");
    }

    @Test
    void aRawUidOfTheOtherScopeOrFromSomethingThatIsNotAnEmailOrPhone() {
        assertThat(refusedAtCreation(JobMapping.identities(Map.of("email", "EUID"), null), Uid2Scope.UID2).getMessage())
                .contains("this server issues UID2, not EUID; use \"UID2\"");
        assertThat(refusedAtCreation(JobMapping.identities(Map.of("email", "UID2"), null), Uid2Scope.EUID).getMessage())
                .contains("this server issues EUID, not UID2");
        assertThat(refused(JobMapping.identities(Map.of("custId", "UID2"), null)).getMessage())
                .contains("declare \"custId\" with type \"email\" or \"phone\"");
    }

    @Test
    void attributeMappingsMustNameDeclaredAttributesOnBothSides() {
        InvalidMappingException e = refused(JobMapping.identities(Map.of("email", "workEmail"),
                ordered("nickname", "givenName", "age", "age")));
        assertThat(e.problems()).containsExactly(
                "attributeMappings: \"nickname\" is not an attribute the producer endpoint declares (it declares firstName, age).",
                "attributeMappings \"age\" → \"age\": \"age\" is not an attribute the destination endpoint declares"
                        + " (it declares givenName, years).");
        assertThat(e.getMessage()).isEqualTo(String.join(" ", e.problems()));
    }

    @Test
    void exactlyOneFormOfIdentityMappingForAnExport() {
        assertThat(refused(new JobMapping(Map.of("email", "workEmail"), List.of("email"), "crmId", null)).getMessage())
                .contains("not both");
        assertThat(refused(JobMapping.identities(null, Map.of("firstName", "givenName"))).getMessage())
                .contains("a segment export must say which identifiers it sends");
        assertThat(refused(JobMapping.graph(List.of("email"), null, null)).getMessage())
                .contains("destinationIdentifier must name the identifier of the destination endpoint");
        assertThat(refused(JobMapping.graph(List.of(), "crmId", null)).getMessage())
                .contains("sourceIdentifiers must name at least one identifier");
        assertThat(refused(JobMapping.graph(List.of("email", "nope"), "workemail", null)).problems()).containsExactly(
                "sourceIdentifiers: \"nope\" is not an identifier the producer endpoint declares (it declares email, phone, custId).",
                "destinationIdentifier: \"workemail\" is not an identifier the destination endpoint declares"
                        + " (it declares workEmail, mobile, crmId).");
    }

    @Test
    void twoSourcesForOneOutputColumn() {
        assertThat(refused(JobMapping.identities(ordered("email", "SHA256", "custId", "SHA256"), null)).getMessage())
                .isEqualTo("The mappings produce column \"SHA256\" more than once: map one source to it.");
        assertThat(refused(JobMapping.identities(ordered("email", "UID2", "phone", "UID2"), null)).problems())
                .containsExactly("The mappings produce column \"UID2\" more than once: map one source to it.",
                        "The mappings produce column \"UID2_BUCKET\" more than once: map one source to it.");
    }

    @Test
    void anImportChecksOnlyTheProducersSide() {
        JobMapping mapping = JobMapping.identities(Map.of("email", "anything"), Map.of("age", "whatever"));
        assertThatCode(() -> mapping.validate(PRODUCER, null, Uid2Scope.UID2)).doesNotThrowAnyException();
        assertThatThrownBy(() -> JobMapping.identities(Map.of("mail", "x"), null).validate(PRODUCER, null, Uid2Scope.UID2))
                .isInstanceOf(InvalidMappingException.class).hasMessageContaining("\"mail\" is not an identifier");
        assertThatCode(() -> JobMapping.NONE.validate(PRODUCER, null, Uid2Scope.UID2)).doesNotThrowAnyException();
    }

    @Test
    void aHeaderWithoutAnyIdentifierOfTheProducerIsRefused() {
        InvalidMappingException e = refusedByUpload(JobMapping.identities(Map.of("email", "workEmail"), null),
                "jane@x.com,Jane");
        assertThat(e.problems()).containsExactly("The header names none of the producer endpoint's identifiers"
                + " (email, phone, custId): the first line of the file must name its columns, at least one of them"
                + " an identifier.");
    }

    @Test
    void aHeaderWithoutAnyColumnTheMappingReadsIsRefused() {
        assertThat(refusedByUpload(JobMapping.identities(Map.of("email", "workEmail"), null), "phone,custId").getMessage())
                .isEqualTo("None of the identifier columns identityMappings reads (email) is in the header: no row"
                        + " could be translated.");
        assertThat(refusedByUpload(JobMapping.graph(List.of("email"), "crmId", null), "phone").getMessage())
                .isEqualTo("None of the sourceIdentifiers (email) is a column of the header: no row could be translated.");
    }

    @Test
    void aDeclaredColumnTwiceInTheHeaderIsRefused() {
        assertThat(refusedByUpload(JobMapping.identities(Map.of("email", "workEmail"), null), "email,phone,email").getMessage())
                .isEqualTo("Column \"email\" appears more than once in the header: name each column once.");
    }

    @Test
    void unknownAndMissingColumnsAreNotedNotRefused() {
        RowTranslation t = compile(JobMapping.identities(ordered("email", "workEmail", "phone", "mobile"),
                ordered("firstName", "givenName", "age", "years")), "\uFEFF email ,loyaltyTier,,firstName");
        assertThat(t.outputHeader()).containsExactly("workEmail", "givenName");
        assertThat(t.notes()).containsExactly(
                "Ignored columns, neither an identifier nor an attribute of the producer endpoint:"
                        + " loyaltyTier, (column 3 has no name).",
                "Columns the mappings read that are not in the file, so nothing was sent for them: phone, age.");
    }

    @Test
    void aCleanHeaderHasNoNotes() {
        assertThat(compile(JobMapping.identities(Map.of("email", "workEmail"), null), "email,firstName").notes()).isEmpty();
    }

    @Test
    void anImportWritesNothingAndHandsItsIdentifiersToTheStore() throws IOException {
        RowTranslation t = RowTranslation.compile(JobMapping.NONE, List.of("custId", "email", "firstName", "other"),
                PRODUCER, null, WithheldIdentifiers.NONE, Uid2Scope.UID2);
        assertThat(t.sendsRows()).isFalse();
        assertThat(t.notes()).containsExactly(
                "Ignored columns, neither an identifier nor an attribute of the producer endpoint: other.");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, null, out);
        assertThat(translator.translate(fields(" C1 , a@x.com ,Jane,z"), 2)).isNull();
        assertThat(translator.translate(fields(",,Jane,z"), 3)).isEqualTo(new BadRow(3, "no identifier value"));
        translator.finish();
        assertThat(out.rows).isEmpty();
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(2, 0, 0, 1));
        assertThat(t.identifiers(fields(" C1 , a@x.com ,Jane,z")))
                .containsExactly(new Identifier("custId", "C1"), new Identifier("email", "a@x.com"));
        assertThat(t.identifiers(fields("C1,,Jane,z"))).containsExactly(new Identifier("custId", "C1"));
    }

    @Test
    void aJobMappingKeepsItsOwnCopyInOrder() {
        Map<String, String> mappings = ordered("phone", "mobile", "email", "workEmail");
        List<String> sources = new ArrayList<>(List.of("email"));
        JobMapping identities = JobMapping.identities(mappings, null);
        JobMapping graph = JobMapping.graph(sources, "crmId", null);
        mappings.put("custId", "crmId");
        sources.add("phone");
        assertThat(identities.identityMappings().keySet()).containsExactly("phone", "email");
        assertThat(graph.sourceIdentifiers()).containsExactly("email");
        assertThat(identities.isGraph()).isFalse();
        assertThat(graph.isGraph()).isTrue();
    }

    @Test
    void manyIgnoredColumnsAreNotedWithoutListingThemAll() {
        StringBuilder header = new StringBuilder("email");
        for (int i = 0; i < 30; i++) {
            header.append(",x").append(i);
        }
        RowTranslation t = compile(JobMapping.identities(Map.of("email", "workEmail"), null), header.toString());
        assertThat(t.notes()).singleElement(InstanceOfAssertFactories.STRING).contains("x19, … 10 more.").doesNotContain("x20");
    }
}
