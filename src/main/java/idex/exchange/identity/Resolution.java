package idex.exchange.identity;

import java.util.List;

/**
 * What resolving a batch did: for each record, the x1 it now belongs to (0 when rejected); the rejected records
 * with their reasons; and how many x1s were created and merged away.
 */
public record Resolution(long[] x1s, List<Rejection> rejected, int created, int merged) {

    public int placed() {
        return x1s.length - rejected.size();
    }
}
