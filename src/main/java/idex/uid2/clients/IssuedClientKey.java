package idex.uid2.clients;

/** A key at the one moment it exists in clear: when it is created and shown to the operator. */
public record IssuedClientKey(String keyId, String key, String secret, String name, int siteId, String roles) {
}
