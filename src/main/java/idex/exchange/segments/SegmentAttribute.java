package idex.exchange.segments;

/** A column of a segment's data: its name (the identifier and attribute name rule) and its type ("string" by default). */
public record SegmentAttribute(String name, String type) {
}
