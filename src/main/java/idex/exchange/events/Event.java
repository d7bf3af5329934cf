package idex.exchange.events;

import idex.exchange.identity.Identifier;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * One validated event of an event source. The timestamp keeps the offset it was sent with, so that a later
 * delivery can hand it on as written. In a compound batch `identifiers` are the batch's shared identifiers.
 */
public record Event(String code, OffsetDateTime timestamp, String channel, List<Identifier> identifiers,
                    List<EventAttribute> attributes) {
}
