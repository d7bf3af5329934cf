package idex.uid2.salts;

/** One bucket as the store holds it; `idx` is its position, the bucket index identities hash to. */
public record StoredBucket(int idx, long id, String key, String salt, String previousSalt, long lastUpdated,
                           long refreshFrom, KeyMaterial currentKey, KeyMaterial previousKey) {
}
