package idex.exchange.accounts;

/** An account: the unit of isolation of the exchange. */
public record Account(long accountId, String name, long created) {
}
