package idex.exchange.identity;

/** One identifier of a person: a name an endpoint declared, and a value. */
public record Identifier(String name, String value) {
}
