package idex.exchange.accounts;

/** A stored bearer key: only its hash. `endpointId` is null for an account-level key. */
public record ApiKey(String keyId, long accountId, Long endpointId, byte[] hash, byte[] salt, long created, Long revoked) {

    public boolean isRevoked() {
        return revoked != null;
    }
}
