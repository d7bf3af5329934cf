package idex.exchange.jobs.translate;

import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.exchange.filters.WithheldIdentifiers;
import idex.uid2.Uid2Scope;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.compile;
import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.ordered;
import static org.assertj.core.api.Assertions.assertThat;

/** identityMappings renames and hashes, attributeMappings copies (spec §4.3). */
class IdentityMappingTranslationTest {

    private static List<List<String>> translate(RowTranslation t, String... rows) throws IOException {
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, null, out);
        long line = 2;
        for (String r : rows) {
            assertThat(translator.translate(fields(r), line++)).as(r).isNull();
        }
        translator.finish();
        return out.rows;
    }

    private static String single(String target, String value) throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("custId", target), null), "custId");
        return translate(t, value).get(0).get(0);
    }

    @Test
    void renameCopiesTheTrimmedValueUnderTheDestinationName() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("email", "workEmail"), Map.of("firstName", "givenName")),
                "email,firstName");
        assertThat(t.outputHeader()).containsExactly("workEmail", "givenName");
        assertThat(translate(t, "  Jane@Example.com ,  Jane ")).containsExactly(List.of("Jane@Example.com", "  Jane "));
    }

    @Test
    void emailSha256HashesTheTrimmedLowerCasedEmail() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("email", "EMAIL_SHA256"), null), "email");
        assertThat(t.outputHeader()).containsExactly("EMAIL_SHA256");
        // printf 'test@example.com' | sha256sum
        assertThat(translate(t, " Test@Example.COM ", "test@example.com")).containsExactly(
                List.of("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"),
                List.of("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"));
    }

    @Test
    void emailSha256LowerCasesNonAsciiLettersToo() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("email", "EMAIL_SHA256"), null), "email");
        // printf 'émile@example.com' | sha256sum (UTF-8)
        assertThat(translate(t, "ÉMILE@EXAMPLE.COM")).containsExactly(
                List.of("1c8e7ea7042d71acc3887871d6cced16a91e22875f900721ba0defcc3cb92c50"));
    }

    @Test
    void phoneSha256HashesTheE164Form() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("phone", "PHONE_SHA256"), null), "phone");
        // printf '+15551234567' | sha256sum
        String expected = "8a59780bb8cd2ba022bfa5ba2ea3b6e07af17a7d8b30c1f9b3390e36f69019e4";
        assertThat(translate(t, "+1 (555) 123-4567", "+1.555.123.4567", "+15551234567"))
                .containsExactly(List.of(expected), List.of(expected), List.of(expected));
    }

    @Test
    void plainHashesHashTheTrimmedValueAsIs() throws IOException {
        // printf 'abc' | sha256sum / sha1sum / md5sum
        assertThat(single("SHA256", " abc ")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(single("SHA1", " abc ")).isEqualTo("a9993e364706816aba3e25717850c26c9cd0d89d");
        assertThat(single("MD5", " abc ")).isEqualTo("900150983cd24fb0d6963f7d28e17f72");
        // printf 'Hello World' | …: case is kept, only the ends are trimmed
        assertThat(single("SHA256", "Hello World")).isEqualTo("a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e");
        assertThat(single("SHA1", "Hello World")).isEqualTo("0a4d55a8d778e5022fab701977c5d840bbc486d0");
        assertThat(single("MD5", "Hello World")).isEqualTo("b10a8db164e0754105b7a99be72e3fe5");
    }

    @Test
    void hashesTheUtf8BytesOfNonAsciiValues() throws IOException {
        // printf 'Grüße' | sha256sum
        assertThat(single("SHA256", "Grüße")).isEqualTo("f83e039796c6453a10f5519e39fd113901572316a1a8ea07cb525d2801dfd074");
    }

    @Test
    void hashesLongValuesBeyondTheInitialBuffer() throws IOException {
        String longValue = "x".repeat(5000);
        assertThat(single("MD5", longValue)).isEqualTo(single("MD5", longValue + "  ")).hasSize(32);
        assertThat(single("MD5", longValue)).isNotEqualTo(single("MD5", longValue + "y"));
    }

    @Test
    void outputColumnsFollowTheMappingOrderThenAttributes() throws IOException {
        RowTranslation t = compile(JobMapping.identities(ordered("phone", "mobile", "email", "EMAIL_SHA256", "custId", "crmId"),
                ordered("age", "years", "firstName", "givenName")), "firstName,custId,email,age,phone");
        assertThat(t.outputHeader()).containsExactly("mobile", "EMAIL_SHA256", "crmId", "years", "givenName");
        assertThat(translate(t, "Jane,C1,test@example.com,41,+15551234567")).containsExactly(List.of("+15551234567",
                "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", "C1", "41", "Jane"));
    }

    @Test
    void emptyValuesLeaveEmptyCellsAndARowWithAnyIdentifierIsSent() throws IOException {
        RowTranslation t = compile(JobMapping.identities(ordered("email", "EMAIL_SHA256", "custId", "crmId"),
                Map.of("firstName", "givenName")), "email,custId,firstName");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, null, out);
        assertThat(translator.translate(fields(" ,C1,"), 2)).isNull();
        assertThat(translator.translate(fields("test@example.com,,Jane"), 3)).isNull();
        assertThat(translator.translate(fields("  , ,Ann"), 4)).isNotNull(); // no identifier at all
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("", "C1", ""),
                List.of("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", "", "Jane"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(3, 2, 2, 1));
    }

    @Test
    void aRowWhoseOnlyIdentifierIsUnmappedIsCountedButNotSent() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("email", "workEmail"), null), "email,custId");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(null, null, out);
        assertThat(translator.translate(fields(",C1"), 2)).isNull(); // it has an identifier: not a bad row
        translator.finish();
        assertThat(out.rows).isEmpty();
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(1, 0, 0, 0));
    }

    @Test
    void aKeywordWinsOverADestinationIdentifierOfTheSameName() throws IOException {
        Registration destination = Fixtures.registration(AudienceRole.DESTINATION,
                List.of(new DeclaredIdentifier("MD5", "string", false)), List.of());
        RowTranslation t = RowTranslation.compile(JobMapping.identities(Map.of("custId", "MD5"), null), List.of("custId"),
                Fixtures.PRODUCER, destination, WithheldIdentifiers.NONE, Uid2Scope.UID2);
        assertThat(translate(t, "abc")).containsExactly(List.of("900150983cd24fb0d6963f7d28e17f72"));
    }

    @Test
    void theOutputRowIsRebuiltForEveryRow() throws IOException {
        RowTranslation t = compile(JobMapping.identities(ordered("email", "workEmail", "custId", "crmId"), null),
                "email,custId");
        assertThat(translate(t, "a@x.com,C1", ",C2", "b@x.com,")).containsExactly(
                List.of("a@x.com", "C1"), List.of("", "C2"), List.of("b@x.com", ""));
    }
}
