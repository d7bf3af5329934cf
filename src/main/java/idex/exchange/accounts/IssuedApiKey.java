package idex.exchange.accounts;

/** A key as just issued: the only moment the whole key exists outside its holder. */
public record IssuedApiKey(String key, ApiKey stored) {

    public String keyId() {
        return stored.keyId();
    }
}
