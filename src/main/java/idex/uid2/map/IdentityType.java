package idex.uid2.map;

/** Kind of directly identifying information; {@link #bit()} is the type field of a raw UID's metadata byte. */
public enum IdentityType {
    EMAIL(0),
    PHONE(1);

    private final int bit;

    IdentityType(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }
}
