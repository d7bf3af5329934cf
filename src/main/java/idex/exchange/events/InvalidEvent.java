package idex.exchange.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.errors.Refusal;

/**
 * An event that fails validation, by its 0-based index in `events` (0 for a single event): the answer carries the
 * index beside the message so that a client can find the event without parsing the sentence.
 */
public final class InvalidEvent extends Refusal {

    private final int index;

    public InvalidEvent(int index, String problem) {
        super(Kind.INVALID, "event " + index + ": " + problem);
        this.index = index;
    }

    public int index() {
        return index;
    }

    /** `{"message":"event 3: …","index":3}`, the body of the 400 answer. */
    @Override
    public ObjectNode toJson() {
        return super.toJson().put("index", index);
    }
}
