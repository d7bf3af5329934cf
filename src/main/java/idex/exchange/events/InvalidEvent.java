package idex.exchange.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

/**
 * An event that fails validation, by its 0-based index in `events` (0 for a single event). Not an ApiError,
 * because the answer carries the index beside the message so that a client can find the event without parsing
 * the sentence.
 */
public final class InvalidEvent extends RuntimeException {

    private final int index;

    public InvalidEvent(int index, String problem) {
        super("event " + index + ": " + problem, null, false, false);
        this.index = index;
    }

    public int index() {
        return index;
    }

    /** `{"message":"event 3: …","index":3}`, the body of the 400 answer. */
    public ObjectNode toJson() {
        return Json.object().put("message", getMessage()).put("index", index);
    }
}
