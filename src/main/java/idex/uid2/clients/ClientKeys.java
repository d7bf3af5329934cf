package idex.uid2.clients;

import idex.auth.KeyHash;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The client keys a running server authenticates against, held in memory and replaced whole when the store
 * changes (keys are few; a reload is cheap and keeps lookups lock-free).
 */
public final class ClientKeys {

    private volatile Map<String, ClientKey> byKeyId = Map.of();

    public void replace(List<ClientKey> keys) {
        Map<String, ClientKey> map = new HashMap<>(keys.size() * 2);
        for (ClientKey k : keys) {
            map.put(k.keyId(), k);
        }
        byKeyId = map;
    }

    /** The key named by an `Authorization` header value, or null when it is missing, unknown or malformed. */
    public ClientKey authenticate(String authorizationHeader) {
        String key = KeyHash.bearerToken(authorizationHeader);
        if (key == null) {
            return null;
        }
        String keyId = keyIdOf(key);
        if (keyId == null) {
            return null;
        }
        ClientKey stored = byKeyId.get(keyId);
        if (stored == null || !KeyHash.matches(key, stored.keySalt(), stored.keyHash())) {
            return null;
        }
        return stored;
    }

    /** The public part of a key that names its row: everything before the '.'. */
    private static String keyIdOf(String key) {
        int dot = key.indexOf('.');
        return dot > 0 ? key.substring(0, dot) : null;
    }
}
