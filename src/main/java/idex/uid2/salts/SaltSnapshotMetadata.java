package idex.uid2.salts;

/**
 * The deployment-wide secrets of a salt snapshot: the first-level salt (hashed, as its ASCII string, into every
 * first level hash) and the Hashids prefix/secret that turn numeric bucket ids into wire bucket ids.
 */
public record SaltSnapshotMetadata(String firstLevelSalt, String idPrefix, String idSecret) {
    @Override
    public String toString() {
        return "SaltSnapshotMetadata[firstLevelSalt=<redacted>, idPrefix=" + idPrefix + ", idSecret=<redacted>]";
    }
}
