package idex.exchange.identity;

import idex.auth.KeyHash;
import org.hashids.Hashids;
import org.jdbi.v3.core.Jdbi;

import java.util.OptionalLong;

/**
 * The public form of x1 numbers: opaque strings (hashids with a salt drawn once per store), so that ids reveal
 * neither how many people a store holds nor the order they came in.
 */
public final class X1Ids {

    private final Hashids hashids;

    private X1Ids(String salt) {
        this.hashids = new Hashids(salt, 10);
    }

    /** The codec of a store: its salt is created on first use and shared by every node. */
    public static X1Ids of(Jdbi jdbi) {
        String salt = jdbi.withHandle(h -> {
            h.createUpdate("INSERT INTO idex_setting (setting_name, setting_value) VALUES ('x1id_salt', :v)"
                    + " ON CONFLICT DO NOTHING").bind("v", KeyHash.randomToken(24)).execute();
            return h.createQuery("SELECT setting_value FROM idex_setting WHERE setting_name = 'x1id_salt'")
                    .mapTo(String.class).one();
        });
        return new X1Ids(salt);
    }

    public String encode(long x1) {
        return hashids.encode(x1);
    }

    /** The x1 number of an id, or empty if the text is not one of ours. */
    public OptionalLong decode(String x1Id) {
        if (x1Id == null || x1Id.isEmpty() || x1Id.length() > 32) {
            return OptionalLong.empty();
        }
        try {
            long[] n = hashids.decode(x1Id);
            // Hashids decodes some foreign strings to numbers; only a canonical encoding is an id.
            return n.length == 1 && hashids.encode(n[0]).equals(x1Id) ? OptionalLong.of(n[0]) : OptionalLong.empty();
        } catch (RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
