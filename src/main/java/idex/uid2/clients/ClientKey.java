package idex.uid2.clients;

import java.util.Set;

/** A stored client key: what the server needs to authenticate it and to decrypt its requests. */
public record ClientKey(String keyId, String name, int siteId, Set<Role> roles, long created, boolean disabled,
                        byte[] secret, byte[] keyHash, byte[] keySalt) {

    public boolean has(Role role) {
        return !disabled && roles.contains(role);
    }
}
