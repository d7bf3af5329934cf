package idex.exchange.endpoints;

/** What an endpoint is for audiences: a source (producer), a destination (consumer), or neither. */
public enum AudienceRole {
    SOURCE, DESTINATION, NONE
}
