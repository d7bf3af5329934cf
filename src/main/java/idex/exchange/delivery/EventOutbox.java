package idex.exchange.delivery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.events.Event;
import idex.exchange.events.EventAttribute;
import idex.exchange.events.EventBatch;
import idex.exchange.events.Outbox;
import idex.exchange.identity.Resolution;
import idex.json.Json;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The outbox: the deliveries an accepted batch of events owes, written in the transaction that accepts the events,
 * so that an event is answered 200 only once its deliveries are as durable as the event itself. An event matches a
 * subscription of the account whose source is its endpoint (or every source) and whose codes hold its code (or
 * `*`), to a destination that can receive events now. Events that the identity store rejected are not delivered.
 */
public final class EventOutbox implements Outbox {

    private record Route(long destinationEndpointId, List<String> codes) {
        boolean matches(String code) {
            return codes.contains("*") || codes.contains(code);
        }
    }

    private final EndpointStore endpoints;
    private final Consumer<Set<Long>> wake;

    /** `wake` is told, once they are committed, which destinations have new deliveries. */
    public EventOutbox(EndpointStore endpoints, Consumer<Set<Long>> wake) {
        this.endpoints = endpoints;
        this.wake = wake;
    }

    @Override
    public void committed(Set<Long> destinations) {
        wake.accept(destinations);
    }

    @Override
    public Set<Long> enqueue(Handle h, Endpoint source, EventBatch batch, Resolution resolution, long now) {
        List<Route> routes = routes(h, source);
        Set<Long> woken = new LinkedHashSet<>();
        if (routes.isEmpty()) {
            return woken;
        }
        List<Event> events = batch.events();
        List<Integer> delivered = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            String code = events.get(i).code();
            if (resolution.x1s()[i] != 0 && routes.stream().anyMatch(r -> r.matches(code))) {
                delivered.add(i);
            }
        }
        if (delivered.isEmpty()) {
            return woken;
        }
        List<Long> eventIds = h.createQuery("SELECT nextval('exchange_event_seq') FROM generate_series(1, :n)")
                .bind("n", delivered.size()).mapTo(Long.class).list();
        PreparedBatch eventRows = h.prepareBatch("INSERT INTO exchange_event (event_id, account_id, source_endpoint_id,"
                + " x1, content, accepted) VALUES (:id, :a, :s, :x1, :content, :now)");
        List<long[]> deliveryRows = new ArrayList<>(); // {eventId, destination}
        for (int k = 0; k < delivered.size(); k++) {
            int i = delivered.get(k);
            Event event = events.get(i);
            long eventId = eventIds.get(k);
            eventRows.bind("id", eventId).bind("a", source.accountId()).bind("s", source.endpointId())
                    .bind("x1", resolution.x1s()[i]).bind("content", content(event)).bind("now", now).add();
            for (Route r : routes) {
                if (r.matches(event.code())) {
                    deliveryRows.add(new long[]{eventId, r.destinationEndpointId()});
                    woken.add(r.destinationEndpointId());
                }
            }
        }
        eventRows.execute();
        // The deliveries' ids come from their sequence inside the insert: one round trip for all of them.
        Long[] destinations = new Long[deliveryRows.size()];
        Long[] deliveredEvents = new Long[deliveryRows.size()];
        for (int k = 0; k < deliveryRows.size(); k++) {
            deliveredEvents[k] = deliveryRows.get(k)[0];
            destinations[k] = deliveryRows.get(k)[1];
        }
        h.createUpdate("INSERT INTO exchange_delivery (delivery_id, account_id, destination_endpoint_id, event_id,"
                        + " status, attempts, attempts_before, next_attempt, created, updated)"
                        + " SELECT nextval('exchange_delivery_seq'), :a, t.d, t.e, 'PENDING', 0, 0, :now, :now, :now"
                        + " FROM UNNEST(:d, :e) WITH ORDINALITY AS t(d, e, n) ORDER BY t.n")
                .bind("a", source.accountId()).bind("d", destinations).bind("e", deliveredEvents).bind("now", now)
                .execute();
        return woken;
    }

    /**
     * The subscriptions that take events from `source`, each to a destination that receives events now (an event
     * destination turned off, or without a URL, gets nothing while it is so).
     */
    private List<Route> routes(Handle h, Endpoint source) {
        List<Route> routes = new ArrayList<>();
        h.createQuery("SELECT destination_endpoint_id, event_codes FROM exchange_event_subscription"
                        + " WHERE account_id = :a AND (source_endpoint_id IS NULL OR source_endpoint_id = :s)"
                        + " ORDER BY subscription_id")
                .bind("a", source.accountId()).bind("s", source.endpointId())
                .map((rs, ctx) -> new Route(rs.getLong(1), List.of((String[]) rs.getArray(2).getArray())))
                .forEach(routes::add);
        // Two subscriptions to one destination deliver an event once: their codes are merged.
        List<Route> merged = new ArrayList<>();
        for (Route r : routes) {
            Optional<Endpoint> destination = endpoints.find(source.accountId(), r.destinationEndpointId());
            if (destination.isEmpty() || !destination.get().receivesEvents()) {
                continue;
            }
            Optional<Route> same = merged.stream()
                    .filter(m -> m.destinationEndpointId() == r.destinationEndpointId()).findFirst();
            if (same.isPresent()) {
                List<String> codes = new ArrayList<>(same.get().codes());
                codes.addAll(r.codes());
                merged.set(merged.indexOf(same.get()), new Route(r.destinationEndpointId(), codes));
            } else {
                merged.add(r);
            }
        }
        return merged;
    }

    /** What the store keeps of an event for its delivery: all but its identifiers, which are read when it is sent. */
    static String content(Event event) {
        ObjectNode o = Json.object();
        o.put("code", event.code());
        o.put("channel", event.channel());
        o.put("timestamp", event.timestamp().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        ArrayNode attributes = o.putArray("attributes");
        for (EventAttribute a : event.attributes()) {
            ObjectNode attribute = attributes.addObject();
            attribute.put("name", a.name());
            attribute.set("value", a.value());
            attribute.put("type", a.type());
        }
        return Json.write(o);
    }
}
