package idex.exchange.accounts;

import idex.errors.Refusal;

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

    public static Long parseEndpointId(String text) {
        if (text == null) {
            return null;
        }
        try {
            long id = Long.parseLong(text.trim());
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw Refusal.invalid("endpointId must be a positive whole number, not '" + text + "'.");
        }
    }
}
