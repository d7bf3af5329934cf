package idex.exchange.events;

import idex.exchange.endpoints.Endpoint;
import idex.exchange.identity.Resolution;
import org.jdbi.v3.core.Handle;

import java.util.Set;

/** Where accepted events leave for their destinations: written with the events, sent once they are committed. */
public interface Outbox {

    /** Records what `batch` owes its subscribers inside the accepting transaction; answers the destinations concerned. */
    Set<Long> enqueue(Handle h, Endpoint source, EventBatch batch, Resolution resolution, long now);

    /** Called once the transaction that enqueued for `destinations` committed. */
    void committed(Set<Long> destinations);
}
