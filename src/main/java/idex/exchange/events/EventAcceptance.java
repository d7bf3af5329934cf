package idex.exchange.events;

import idex.exchange.endpoints.Endpoint;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Rejection;
import idex.exchange.identity.Resolution;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Accepts batches of events: their identities resolved and their deliveries written (the outbox), durably, before
 * the caller answers. Requests of one account are serialised by the identity store's account lock, so one at a time
 * each paid a whole transaction and a WAL flush while the others waited: an account's single-event requests could not
 * pass one per commit. Here the requests of an account that arrive while one group is being committed wait, without a
 * thread, and are committed together next, in one transaction, the events of one source resolved as one batch (the
 * graph is the one of running the requests in turn); each is answered once that transaction has committed. One
 * group of an account commits at a time, each on a worker thread of its own. Should a group's transaction fail, each
 * of its requests is tried again alone, so that one request's failure is never another's.
 */
public final class EventAcceptance {

    /** The most requests committed in one transaction. */
    static final int MOST_PER_COMMIT = 64;

    /** A request, and its result once committed. */
    private record Pending(Endpoint source, EventBatch batch, long now, CompletableFuture<Resolution> done) {
    }

    private final Jdbi jdbi;
    private final IdentityStore identities;
    private final Outbox outbox;
    private final Executor workers;
    /** Requests waiting, by account; an account present here has a group being committed. */
    private final Map<Long, ArrayDeque<Pending>> waiting = new HashMap<>();

    /** `workers` runs the commit of each next group (threads that may block on the store). */
    public EventAcceptance(Jdbi jdbi, IdentityStore identities, Outbox outbox, Executor workers) {
        this.jdbi = jdbi;
        this.identities = identities;
        this.outbox = outbox;
        this.workers = workers;
    }

    /**
     * Resolves and enqueues `batch` from `source`; the result completes once it is committed. The first request of
     * an account with nothing being committed is committed on the calling thread (a worker: it blocks on the store);
     * the others wait for the next group.
     */
    public CompletableFuture<Resolution> accept(Endpoint source, EventBatch batch, long now) {
        Pending mine = new Pending(source, batch, now, new CompletableFuture<>());
        long account = source.accountId();
        boolean first;
        synchronized (waiting) {
            ArrayDeque<Pending> queue = waiting.get(account);
            first = queue == null;
            if (first) {
                queue = new ArrayDeque<>();
                waiting.put(account, queue);
            }
            queue.add(mine);
        }
        if (first) {
            commitNext(account);
        }
        return mine.done();
    }

    /**
     * Commits the account's next group, if any; the group after it is committed by another worker, so that this
     * thread's caller is answered now. With nothing left, the account has no group being committed.
     */
    private void commitNext(long account) {
        List<Pending> group = new ArrayList<>();
        synchronized (waiting) {
            ArrayDeque<Pending> queue = waiting.get(account);
            while (!queue.isEmpty() && group.size() < MOST_PER_COMMIT) {
                group.add(queue.poll());
            }
            if (group.isEmpty()) {
                waiting.remove(account);
                return;
            }
        }
        try {
            commit(group);
        } finally {
            handOn(account);
        }
    }

    /** After a group: with requests waiting, the next group goes to another worker; with none, the account is free. */
    private void handOn(long account) {
        synchronized (waiting) {
            if (waiting.get(account).isEmpty()) {
                waiting.remove(account);
                return;
            }
        }
        workers.execute(() -> commitNext(account));
    }

    private void commit(List<Pending> group) {
        Set<Long> destinations = new HashSet<>();
        Resolution[] resolved;
        try {
            resolved = jdbi.inTransaction(h -> resolveTogether(h, group, destinations));
        } catch (RuntimeException e) {
            if (group.size() == 1) {
                group.get(0).done().completeExceptionally(e);
                return;
            }
            for (Pending p : group) { // alone, so that one request's failure stays its own
                commit(List.of(p));
            }
            return;
        } catch (Error e) {
            group.forEach(p -> p.done().completeExceptionally(e)); // no caller waits forever
            throw e;
        }
        if (!destinations.isEmpty()) {
            outbox.committed(destinations);
        }
        for (int i = 0; i < group.size(); i++) {
            group.get(i).done().complete(resolved[i]);
        }
    }

    /**
     * Resolves the requests of one source as one batch of records (their events one after the other, as if sent in
     * one request), so that a group costs the store's round trips of one request, not one set per request; then
     * answers each request its own part. The identity store places a batch's records in order, each seeing those
     * before it, so the graph is the one of the requests committed in turn.
     */
    private Resolution[] resolveTogether(Handle h, List<Pending> group, Set<Long> destinations) {
        Map<Long, List<Integer>> bySource = new LinkedHashMap<>();
        for (int i = 0; i < group.size(); i++) {
            bySource.computeIfAbsent(group.get(i).source().endpointId(), s -> new ArrayList<>()).add(i);
        }
        Resolution[] answers = new Resolution[group.size()];
        for (List<Integer> members : bySource.values()) {
            Endpoint source = group.get(members.get(0)).source();
            List<Event> events = new ArrayList<>();
            long now = 0;
            for (int i : members) {
                events.addAll(group.get(i).batch().events());
                now = Math.max(now, group.get(i).now());
            }
            EventBatch together = new EventBatch(events);
            Resolution r = identities.resolve(h, source.accountId(), source.endpointId(),
                    source.registration().uniqueIdentifierNames(), together.records(), now);
            destinations.addAll(outbox.enqueue(h, source, together, r, now));
            int from = 0;
            for (int i : members) {
                int to = from + group.get(i).batch().events().size();
                answers[i] = part(r, from, to);
                from = to;
            }
        }
        return answers;
    }

    /** The records `from` (inclusive) to `to` of a resolution, indexed from 0 again. */
    private static Resolution part(Resolution whole, int from, int to) {
        List<Rejection> rejected = new ArrayList<>();
        for (Rejection r : whole.rejected()) {
            if (r.index() >= from && r.index() < to) {
                rejected.add(new Rejection(r.index() - from, r.reason()));
            }
        }
        // How many x1s were created or merged away belongs to the whole group; a request's part does not know it.
        return new Resolution(Arrays.copyOfRange(whole.x1s(), from, to), rejected, 0, 0);
    }
}
