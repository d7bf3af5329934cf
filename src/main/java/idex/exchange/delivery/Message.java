package idex.exchange.delivery;

import java.util.List;

/**
 * One request to a destination: the deliveries it carries (one, or up to the destination's batch size), the number
 * of attempts made before this one, and since when it is queued again by hand (`attemptsBefore`: the retry
 * schedule restarts there). Its `messageId` is the `webhook-id` of every attempt.
 */
public record Message(long messageId, long accountId, long destinationEndpointId, List<Long> deliveryIds, int attempts,
                      int attemptsBefore) {

    public Message {
        deliveryIds = List.copyOf(deliveryIds);
    }

    /** The `webhook-id` header: the same for every attempt, so that a receiver can drop what it already has. */
    public String webhookId() {
        return "msg_" + messageId;
    }
}
