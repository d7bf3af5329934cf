package idex.uid2.salts;

/**
 * A bucket's raw UID v4 key: {@code key} is a 32-character ASCII string whose bytes are the AES-256 key, {@code salt}
 * an ASCII string hashed into the IV. toString() hides both so they never reach a log.
 */
public record KeyMaterial(int keyId, String key, String salt) {
    @Override
    public String toString() {
        return "KeyMaterial[keyId=" + keyId + ", key=<redacted>, salt=<redacted>]";
    }
}
