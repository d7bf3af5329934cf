package idex.uid2.map;

import idex.uid2.salts.SaltBuckets;

/** The opt-out list a running server answers from, rebuilt when the list or the first-level salt changes. */
public final class LiveOptOuts {

    private final OptOutStore store;
    private volatile OptOutList current;
    private String version;

    public LiveOptOuts(OptOutStore store, SaltBuckets salts) {
        this.store = store;
        this.version = store.version();
        this.current = OptOutList.of(store.all(), salts.firstLevelSalt(), salts.epoch());
    }

    public OptOutList current() {
        return current;
    }

    public synchronized boolean refresh(SaltBuckets salts) {
        String v = store.version();
        if (v.equals(version) && current.epoch() == salts.epoch()) {
            return false;
        }
        current = OptOutList.of(store.all(), salts.firstLevelSalt(), salts.epoch());
        version = v;
        return true;
    }
}
