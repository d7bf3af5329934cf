package idex.uid2.clients;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a client key may do. MAPPER covers the identity map and bucket endpoints. */
public enum Role {
    MAPPER, GENERATOR, SHARER, ID_READER;

    /** Parses `MAPPER,SHARER`; rejects unknown names with a message that lists the known ones. */
    public static Set<Role> parseList(String text) {
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        for (String part : text.split(",")) {
            String name = part.trim().toUpperCase(Locale.ROOT);
            if (name.isEmpty()) {
                continue;
            }
            try {
                roles.add(valueOf(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown role '" + part.trim() + "': use MAPPER, GENERATOR, SHARER or ID_READER");
            }
        }
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("at least one role is required");
        }
        return roles;
    }
}
