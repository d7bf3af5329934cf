package idex.exchange.jobs.translate;

import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.DeclaredAttribute;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.exchange.filters.WithheldIdentifiers;
import idex.uid2.IdentityEnvironment;
import idex.support.TestVectors;
import idex.uid2.Uid2Scope;
import idex.uid2.map.IdentityHasher;
import idex.uid2.map.IdentityNormalizer;
import idex.uid2.map.OptOutList;
import idex.uid2.salts.BucketIds;
import idex.uid2.salts.SaltBuckets;
import idex.uid2.salts.SaltFileRow;
import idex.uid2.salts.SaltSnapshotFiles;
import idex.uid2.salts.SaltSnapshotMetadata;
import idex.uid2.salts.StoredBucket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Registrations, salts and a row sink shared by the translation tests. */
final class Fixtures {

    private Fixtures() {
    }

    /** A producer with email (type email), phone (type phone), custId (string), and two attributes. */
    static final Registration PRODUCER = registration(AudienceRole.SOURCE,
            List.of(new DeclaredIdentifier("email", "email", false), new DeclaredIdentifier("phone", "phone", false),
                    new DeclaredIdentifier("custId", "string", true)),
            List.of(new DeclaredAttribute("firstName", "string"), new DeclaredAttribute("age", "number")));

    /** A destination with workEmail, mobile, crmId, and two attributes. */
    static final Registration DESTINATION = registration(AudienceRole.DESTINATION,
            List.of(new DeclaredIdentifier("workEmail", "email", false), new DeclaredIdentifier("mobile", "phone", false),
                    new DeclaredIdentifier("crmId", "string", false)),
            List.of(new DeclaredAttribute("givenName", "string"), new DeclaredAttribute("years", "number")));

    static Registration registration(AudienceRole role, List<DeclaredIdentifier> identifiers,
                                     List<DeclaredAttribute> attributes) {
        return new Registration("e", null, null, null, false, false, null, 1, role, "push", identifiers, attributes);
    }

    /** An ordered map from alternating keys and values. */
    static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    static WithheldIdentifiers withholding(String... names) {
        return new WithheldIdentifiers(Set.of(names));
    }

    static RowTranslation compile(JobMapping mapping, String header) {
        return RowTranslation.compile(mapping, List.of(header.split(",", -1)), PRODUCER, DESTINATION,
                WithheldIdentifiers.NONE, Uid2Scope.UID2);
    }

    /** The reference test salts (5 buckets) as the server holds them in memory. */
    static SaltBuckets testSalts() {
        try {
            Path dir = TestVectors.uid2TestSalts();
            SaltSnapshotMetadata meta = SaltSnapshotFiles.readMetadata(dir);
            List<SaltFileRow> rows = new ArrayList<>();
            SaltSnapshotFiles.readRows(dir, System.currentTimeMillis(), rows::add);
            BucketIds ids = BucketIds.of(meta);
            SaltBuckets.Builder b = SaltBuckets.builder(rows.size(), meta.firstLevelSalt(), 1, 1);
            for (int i = 0; i < rows.size(); i++) {
                SaltFileRow r = rows.get(i);
                b.set(new StoredBucket(i, r.id(), ids.encode(r.id()), r.currentSalt(), r.previousSalt(), r.lastUpdated(),
                        r.refreshFrom(), r.currentKey(), r.previousKey()));
            }
            return b.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reference's built-in opted-out test identities. */
    static OptOutList builtInOptOuts(SaltBuckets salts) {
        IdentityHasher hasher = IdentityHasher.forThread();
        List<byte[]> hashes = List.of(
                hasher.identityHash(IdentityNormalizer.normalizeEmail("optout@example.com")).clone(),
                hasher.identityHash("+00000000000").clone());
        return OptOutList.of(hashes, salts.firstLevelSalt(), salts.epoch());
    }

    static UidSnapshot uidSnapshot(Uid2Scope scope) {
        SaltBuckets salts = testSalts();
        return new UidSnapshot(scope, IdentityEnvironment.TEST, salts, builtInOptOuts(salts));
    }

    /** Collects written rows (copies: the translator reuses its array). */
    static final class Captured implements OutputRows {
        final List<List<String>> rows = new ArrayList<>();

        @Override
        public void write(String[] row) {
            rows.add(List.copyOf(Arrays.asList(row)));
        }
    }

    /** The fields of one CSV row, split on commas (the tests' values hold none). */
    static String[] fields(String csvRow) {
        return csvRow.split(",", -1);
    }
}
