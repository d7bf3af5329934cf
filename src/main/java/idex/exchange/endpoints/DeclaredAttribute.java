package idex.exchange.endpoints;

/** An attribute an endpoint sends or receives. */
public record DeclaredAttribute(String name, String type) {
}
