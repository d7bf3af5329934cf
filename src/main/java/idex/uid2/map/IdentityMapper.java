package idex.uid2.map;

import idex.uid2.salts.SaltBuckets;

import java.util.Base64;

/**
 * Maps one identity to its raw UID, bucket and refresh time with the deployment's salts. One instance per thread:
 * it reuses its buffers, and its result fields are overwritten by each call.
 */
public final class IdentityMapper {

    public enum Outcome {
        MAPPED(null), OPTOUT("optout"), INVALID("invalid identifier");

        private final String reason;

        Outcome(String reason) {
            this.reason = reason;
        }

        /** The reason an unmapped identity gets on the wire. */
        public String reason() {
            return reason;
        }
    }

    private final IdentityHasher hasher = IdentityHasher.forThread();
    private final SaltBuckets.Secret secret = new SaltBuckets.Secret();
    private final int scopeBit;
    private final int envBits;

    /** Results of the last call. */
    public int bucketIdx;
    public String currentUid;
    public String previousUid;

    public IdentityMapper(int scopeBit, int envBits) {
        this.scopeBit = scopeBit;
        this.envBits = envBits;
    }

    /** Maps an email or phone as sent (`hashed` false) or its base64/hex SHA-256 (`hashed` true). */
    public Outcome map(String input, IdentityType type, boolean hashed, SaltBuckets salts, OptOutList optOuts,
                       boolean withPrevious, long now) {
        byte[] identityHash;
        if (hashed) {
            identityHash = IdentityNormalizer.decodeHash(input);
        } else if (type == IdentityType.EMAIL) {
            String email = IdentityNormalizer.normalizeEmail(input);
            identityHash = email == null ? null : hasher.identityHash(email);
        } else {
            identityHash = IdentityNormalizer.isNormalizedPhone(input) ? hasher.identityHash(input) : null;
        }
        if (identityHash == null) {
            return Outcome.INVALID;
        }
        byte[] flh = hasher.firstLevelHash(identityHash, salts.firstLevelSalt());
        if (optOuts.contains(flh)) {
            return Outcome.OPTOUT;
        }
        int idx = IdentityHasher.bucketIndex(flh, salts.count());
        bucketIdx = idx;
        currentUid = rawUid(flh, idx, type, salts, false);
        previousUid = withPrevious && salts.hasPrevious(idx, now) ? rawUid(flh, idx, type, salts, true) : null;
        return Outcome.MAPPED;
    }

    private String rawUid(byte[] flh, int idx, IdentityType type, SaltBuckets salts, boolean previous) {
        if (!salts.readSecret(idx, previous, secret)) {
            return null;
        }
        if (secret.isSalt) {
            return Base64.getEncoder().encodeToString(hasher.rawUidV2(flh, secret.salt));
        }
        return Base64.getEncoder().encodeToString(hasher.rawUidV4(flh, secret.key, type, scopeBit, envBits));
    }
}
