package idex.uid2;

import java.util.Locale;

/** Which identity family a deployment serves: it sets key prefixes and the scope bit of raw UIDs. */
public enum Uid2Scope {
    UID2("UID2", 0),
    EUID("EUID", 1);

    private final String prefix;
    private final int scopeBit;

    Uid2Scope(String prefix, int scopeBit) {
        this.prefix = prefix;
        this.scopeBit = scopeBit;
    }

    public String keyPrefix() {
        return prefix;
    }

    public int scopeBit() {
        return scopeBit;
    }

    public static Uid2Scope parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown scope '" + text + "': use uid2 or euid");
        }
    }
}
