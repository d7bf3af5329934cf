package idex.exchange.endpoints;

/** An identifier an endpoint knows: `unique` means one person has at most one value of it (for this endpoint). */
public record DeclaredIdentifier(String name, String type, boolean unique) {
}
