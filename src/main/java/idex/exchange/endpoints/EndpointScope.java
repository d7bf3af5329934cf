package idex.exchange.endpoints;

import idex.exchange.accounts.Caller;

/**
 * The one answer to "which endpoint is this call about", for every route: an endpoint key acts on its own endpoint
 * (naming another is 403); an account key on the one it names with `endpointId` (400 when it must name one and does
 * not), which must be in its account (404 otherwise, as if it did not exist).
 */
public final class EndpointScope {

    private final EndpointStore endpoints;

    public EndpointScope(EndpointStore endpoints) {
        this.endpoints = endpoints;
    }

    /** The id of the one endpoint the call acts on. */
    public long endpointId(Caller caller, String named) {
        long endpoint = caller.endpointFor(named);
        if (caller.isAccountKey()) {
            // An endpoint key's own endpoint exists by construction (endpoints are never deleted); a named one may not.
            endpoints.requireExists(caller.accountId(), endpoint);
        }
        return endpoint;
    }

    /** The one endpoint the call acts on, with its registration. */
    public Endpoint endpoint(Caller caller, String named) {
        return endpoints.require(caller.accountId(), caller.endpointFor(named));
    }

    /**
     * The endpoint a listing is narrowed to: as {@link #endpointId}, but null (the whole account) for an account key
     * that names none.
     */
    public Long narrowing(Caller caller, String named) {
        return caller.isAccountKey() && named == null ? null : endpointId(caller, named);
    }
}
