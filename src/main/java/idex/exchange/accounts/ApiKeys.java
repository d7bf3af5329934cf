package idex.exchange.accounts;

import idex.auth.KeyHash;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The keys a running server authenticates against, in memory: authentication costs one hash, no database call.
 * Reloaded when the store changes (a revoked key is refused after the next refresh, within seconds); keys this
 * server issues itself are added at once, so a new endpoint's key works on the very next request.
 */
public final class ApiKeys {

    private volatile ConcurrentHashMap<String, ApiKey> byKeyId = new ConcurrentHashMap<>();
    /** Keys added here and not yet seen in a reload: a reload that read the store just before they were committed
     * must not drop them. */
    private final ConcurrentHashMap<String, ApiKey> addedHere = new ConcurrentHashMap<>();

    public synchronized void replace(List<ApiKey> keys) {
        ConcurrentHashMap<String, ApiKey> map = new ConcurrentHashMap<>(keys.size() * 2);
        for (ApiKey k : keys) {
            map.put(k.keyId(), k);
            addedHere.remove(k.keyId());
        }
        addedHere.forEach(map::putIfAbsent);
        byKeyId = map;
    }

    public synchronized void add(ApiKey key) {
        addedHere.put(key.keyId(), key);
        byKeyId.put(key.keyId(), key);
    }

    /** The caller named by an `Authorization` header, or null when the key is missing, unknown or revoked. */
    public Caller authenticate(String authorizationHeader) {
        String key = KeyHash.bearerToken(authorizationHeader);
        if (key == null) {
            return null;
        }
        String keyId = ApiKeyStore.keyIdOf(key);
        ApiKey stored = keyId == null ? null : byKeyId.get(keyId);
        if (stored == null || stored.isRevoked() || !KeyHash.matches(key, stored.salt(), stored.hash())) {
            return null;
        }
        return new Caller(stored.keyId(), stored.accountId(), stored.endpointId());
    }
}
