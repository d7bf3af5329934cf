package idex.uid2.salts;

/** The deployment-wide salt settings row. */
public record SaltSettings(String firstLevelSalt, String idPrefix, String idSecret, int bucketCount, long epoch,
                           long generation, Long lastRotation) {
}
