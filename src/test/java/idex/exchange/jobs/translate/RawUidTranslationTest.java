package idex.exchange.jobs.translate;

import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.filters.WithheldIdentifiers;
import idex.uid2.Uid2Scope;
import idex.uid2.map.IdentityHasher;
import idex.uid2.map.IdentityType;
import idex.uid2.salts.SaltBuckets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static idex.exchange.jobs.translate.Fixtures.compile;
import static idex.exchange.jobs.translate.Fixtures.fields;
import static idex.exchange.jobs.translate.Fixtures.ordered;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** UID2 / EUID targets against the reference test salts (src/test/resources/vectors/uid2-test-salts/README.md). */
class RawUidTranslationTest {

    private static UidSnapshot uid2;
    private static UidSnapshot euid;

    @BeforeAll
    static void loadSalts() {
        uid2 = Fixtures.uidSnapshot(Uid2Scope.UID2);
        euid = Fixtures.uidSnapshot(Uid2Scope.EUID);
    }

    private static RowTranslation emailToUid2() {
        return compile(JobMapping.identities(Map.of("email", "UID2"), null), "email");
    }

    @Test
    void emailsMapToTheReferenceOperatorsRawUid2AndBucketId() throws IOException {
        RowTranslation t = emailToUid2();
        assertThat(t.outputHeader()).containsExactly("UID2", "UID2_BUCKET");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(uid2, null, out);
        assertThat(translator.translate(fields("user@example.com"), 2)).isNull();       // a key-material bucket (v4)
        assertThat(translator.translate(fields(" Jane.Doe+x@Gmail.com "), 3)).isNull(); // a salt bucket (v2)
        translator.finish();
        assertThat(out.rows).containsExactly(
                List.of("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf", "bv3WM92zaA"),
                List.of("Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=", "b1aZVGl7aB"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(2, 2, 2, 0));
    }

    @Test
    void optedOutEmailsProduceNothing() throws IOException {
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = emailToUid2().translator(uid2, null, out);
        assertThat(translator.translate(fields("user@example.com"), 2)).isNull(); // the mapper's last result is set
        assertThat(translator.translate(fields("optout@example.com"), 3)).isNull();
        assertThat(translator.translate(fields("OptOut@Example.com"), 4)).isNull();
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf", "bv3WM92zaA"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(3, 1, 1, 0));
        assertThat(translator.skipped().byKey()).containsExactly(Map.entry("optedOut", 2L));
    }

    @Test
    void anOptedOutIdentifierIsDroppedWhileTheRowsOtherIdentifiersAreSent() throws IOException {
        RowTranslation t = compile(JobMapping.identities(ordered("email", "UID2", "custId", "crmId"), null), "email,custId");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(uid2, null, out);
        translator.translate(fields("optout@example.com,C1"), 2);
        translator.finish();
        assertThat(out.rows).containsExactly(List.of("", "", "C1"));
    }

    @Test
    void anEmailTheOperatorWouldRejectIsABadRow() throws IOException {
        RowTranslator translator = emailToUid2().translator(uid2, null, new Fixtures.Captured());
        BadRow bad = translator.translate(fields("bad"), 7);
        assertThat(bad).isEqualTo(new BadRow(7, "column email: not a valid email address"));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(1, 0, 0, 1));
    }

    @Test
    void phonesAreBroughtToE164ThenMappedAsPhones() throws IOException {
        RowTranslation t = compile(JobMapping.identities(Map.of("phone", "UID2"), null), "phone");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(uid2, null, out);
        translator.translate(fields("+44 (20) 7946-0958"), 2); // lands in a key-material bucket: the type counts
        translator.translate(fields("+1 555.123.4567"), 3);    // lands in a salt bucket
        translator.translate(fields("+0 (000) 000-0000"), 4);  // the built-in opted-out phone +00000000000
        assertThat(translator.translate(fields("555-1234"), 5).reason()).contains("E.164");
        translator.finish();
        List<String> expected = expectedRawUid("+442079460958", IdentityType.PHONE, 0, uid2.salts());
        assertThat(expected).isNotEqualTo(expectedRawUid("+442079460958", IdentityType.EMAIL, 0, uid2.salts()));
        assertThat(out.rows).containsExactly(expected,
                expectedRawUid("+15551234567", IdentityType.PHONE, 0, uid2.salts()));
        assertThat(translator.counts()).isEqualTo(new TranslationCounts(4, 2, 2, 1));
    }

    @Test
    void anEuidServerMapsToEuidWithTheEuidScopeBit() throws IOException {
        RowTranslation t = RowTranslation.compile(JobMapping.identities(Map.of("email", "EUID"), null), List.of("email"),
                Fixtures.PRODUCER, Fixtures.DESTINATION, WithheldIdentifiers.NONE, Uid2Scope.EUID);
        assertThat(t.outputHeader()).containsExactly("EUID", "EUID_BUCKET");
        Fixtures.Captured out = new Fixtures.Captured();
        RowTranslator translator = t.translator(euid, null, out);
        translator.translate(fields("user@example.com"), 2);
        translator.translate(fields("Jane.Doe+x@Gmail.com"), 3);
        translator.finish();
        List<String> keyBucketRow = out.rows.get(0);
        assertThat(keyBucketRow).isEqualTo(expectedRawUid("user@example.com", IdentityType.EMAIL, 1, euid.salts()));
        assertThat(Base64.getDecoder().decode(keyBucketRow.get(0))[0]).isEqualTo((byte) 0x30); // v4, EUID, email, test
        assertThat(keyBucketRow.get(0)).isNotEqualTo("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf");
        // a salt bucket's raw UID (v2) does not depend on the scope
        assertThat(out.rows.get(1)).containsExactly("Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=", "b1aZVGl7aB");
    }

    @Test
    void aTranslatorForRawUidsNeedsASnapshotOfTheSameScope() {
        RowTranslation t = emailToUid2();
        assertThat(t.needsUids()).isTrue();
        assertThatThrownBy(() -> t.translator(null, null, new Fixtures.Captured()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> t.translator(euid, null, new Fixtures.Captured()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("EUID");
    }

    @Test
    void theDeclaredTypeOrElseTheNameSaysWhetherAnIdentifierIsAnEmailOrAPhone() {
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("contact", "Email", false))).isEqualTo(IdentityType.EMAIL);
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("email", "phone", false))).isEqualTo(IdentityType.PHONE);
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("workPhone", "string", false))).isEqualTo(IdentityType.PHONE);
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("HomeEMAIL", "string", false))).isEqualTo(IdentityType.EMAIL);
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("emailOrPhone", "string", false))).isNull();
        assertThat(JobMapping.rawUidInput(new DeclaredIdentifier("custId", "string", false))).isNull();
    }

    /** Raw UID and wire bucket id computed from the hash chain's primitives, as ReferenceVectorsTest does. */
    private static List<String> expectedRawUid(String normalized, IdentityType type, int scopeBit, SaltBuckets salts) {
        IdentityHasher hasher = IdentityHasher.forThread();
        byte[] flh = hasher.firstLevelHash(hasher.identityHash(normalized), salts.firstLevelSalt()).clone();
        int idx = IdentityHasher.bucketIndex(flh, salts.count());
        byte[] raw;
        SaltBuckets.Secret secret = new SaltBuckets.Secret();
        salts.readSecret(idx, false, secret);
        if (secret.isSalt) {
            raw = hasher.rawUidV2(flh, secret.salt);
        } else {
            raw = hasher.rawUidV4(flh, secret.key, type, scopeBit, 0);
        }
        return List.of(Base64.getEncoder().encodeToString(raw), salts.bucketKey(idx));
    }
}
