package idex.uid2.salts;

import org.hashids.Hashids;

/**
 * Wire bucket ids: prefix ‖ Hashids v1 (default alphabet, minimum length 9, salt = the deployment's id secret) of
 * the numeric id, as the reference operator builds them. Thread-safe: Hashids keeps only final, immutable state.
 */
public final class BucketIds {
    private static final int MIN_HASH_LENGTH = 9;

    private final String prefix;
    private final Hashids hashids;

    public BucketIds(String prefix, String secret) {
        this.prefix = prefix;
        this.hashids = new Hashids(secret, MIN_HASH_LENGTH);
    }

    public static BucketIds of(SaltSnapshotMetadata metadata) {
        return new BucketIds(metadata.idPrefix(), metadata.idSecret());
    }

    public String encode(long id) {
        return prefix + hashids.encode(id);
    }
}
