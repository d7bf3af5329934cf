package idex.exchange.accounts;

import idex.errors.Refusal;
import idex.http.PositiveId;

/**
 * Who is calling, as its bearer key says: an account-level key (endpointId null) acts across the account, an
 * endpoint-level key acts as one endpoint.
 */
public record Caller(String keyId, long accountId, Long endpointId) {

    public boolean isAccountKey() {
        return endpointId == null;
    }

    /**
     * The endpoint an endpoint-scoped operation acts on: an endpoint key acts on its own endpoint (naming another
     * is 403); an account key must name one with `endpointId` (400 if missing). Whether a named endpoint exists in
     * the account is for the caller of this method to check (404).
     */
    public long endpointFor(String endpointIdParam) {
        Long named = parseEndpointId(endpointIdParam);
        if (endpointId != null) {
            if (named != null && !named.equals(endpointId)) {
                throw Refusal.forbidden("This key belongs to endpoint " + endpointId + " and cannot act for endpoint "
                        + named + "; use that endpoint's key or an account-level key.");
            }
            return endpointId;
        }
        if (named == null) {
            throw Refusal.invalid("An account-level key must name the endpoint: add ?endpointId=….");
        }
        return named;
    }

    /** Only endpoint-level keys may call this. */
    public long requireEndpointKey(String what) {
        if (endpointId == null) {
            throw Refusal.forbidden(what + " needs an endpoint-level key: the endpoint acts as itself.");
        }
        return endpointId;
    }

    /** Only account-level keys may call this. */
    public void requireAccountKey(String what) {
        if (endpointId != null) {
            throw Refusal.forbidden(what + " needs an account-level key.");
        }
    }

    /**
     * Whether the caller may see what an endpoint produces or receives: an account key all of its account's, an
     * endpoint key what its endpoint is the producer or destination of.
     */
    public boolean isPartyTo(long producerEndpointId, Long destinationEndpointId) {
        return endpointId == null || endpointId == producerEndpointId || endpointId.equals(destinationEndpointId);
    }

    /** Whether the caller may act for `endpoint`: it is its key, or an account key. */
    public boolean actsFor(Long endpoint) {
        return endpointId == null || endpointId.equals(endpoint);
    }

    /** Only `endpoint`'s key or an account key may do `what` as the job's `role`: 403 otherwise. */
    public void requireActingFor(Long endpoint, String what, String role) {
        if (!actsFor(endpoint)) {
            throw Refusal.forbidden(what + " is for the job's " + role + " endpoint or an account-level key.");
        }
    }

    public static Long parseEndpointId(String text) {
        if (text == null) {
            return null;
        }
        return PositiveId.parse(text.trim()).orElseThrow(() ->
                Refusal.invalid("endpointId must be a positive whole number, not '" + text + "'."));
    }
}
