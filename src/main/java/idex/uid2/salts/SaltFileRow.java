package idex.uid2.salts;

/**
 * One line of the reference operator's salt CSV, i.e. one bucket. A bucket maps with {@code currentSalt} (raw UID v2)
 * or, when that is absent, with {@code currentKey} (raw UID v4); the previous ones give the pre-rotation raw UID.
 * Nullable: currentSalt, previousSalt, currentKey, previousKey. toString() hides the salts.
 */
public record SaltFileRow(long id, long lastUpdated, String currentSalt, long refreshFrom, String previousSalt,
                          KeyMaterial currentKey, KeyMaterial previousKey) {
    @Override
    public String toString() {
        return "SaltFileRow[id=" + id + ", lastUpdated=" + lastUpdated
                + ", currentSalt=" + (currentSalt == null ? "null" : "<redacted>") + ", refreshFrom=" + refreshFrom
                + ", previousSalt=" + (previousSalt == null ? "null" : "<redacted>")
                + ", currentKey=" + currentKey + ", previousKey=" + previousKey + "]";
    }
}
