package idex.uid2.clients;

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
        String key = bearerToken(authorizationHeader);
        if (key == null) {
            return null;
        }
        String keyId = ClientKeyHash.keyIdOf(key);
        if (keyId == null) {
            return null;
        }
        ClientKey stored = byKeyId.get(keyId);
        if (stored == null || !ClientKeyHash.matches(key, stored)) {
            return null;
        }
        return stored;
    }

    static String bearerToken(String header) {
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
