package idex.exchange.events;

import idex.exchange.identity.Identifier;

import java.util.List;

/** The events of one `POST /v1/event`, whatever shape they came in, all of them valid, in the order sent. */
public record EventBatch(List<Event> events) {

    /** One identity-store record per event (spec §6), at the event's index, so that rejections name events. */
    public List<List<Identifier>> records() {
        return events.stream().map(Event::identifiers).toList();
    }
}
