package idex.exchange.identity;

/** A record the identity store could not place, by its position in the batch, and why. */
public record Rejection(int index, String reason) {
}
