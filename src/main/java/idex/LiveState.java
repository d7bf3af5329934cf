package idex;

import idex.exchange.accounts.ApiKeys;
import idex.uid2.clients.ClientKeys;
import idex.uid2.map.LiveOptOuts;
import idex.uid2.salts.LiveSalts;

/**
 * What requests read from memory rather than the store (salt buckets, opt-outs, client keys, exchange API keys),
 * and how it picks up what admin commands and other nodes changed in the store.
 */
final class LiveState {

    private final Stores stores;
    private final LiveSalts salts;
    private final LiveOptOuts optOuts;
    private final ClientKeys clientKeys;
    private final ApiKeys apiKeys;
    private String clientKeyVersion;
    private String apiKeyVersion;

    private LiveState(Stores stores) {
        this.stores = stores;
        this.salts = new LiveSalts(stores.salts());
        this.optOuts = new LiveOptOuts(stores.optOuts(), salts.current());
        this.clientKeys = new ClientKeys();
        this.apiKeys = new ApiKeys();
        // The versions first: a change made while the lists load is then picked up by the next refresh.
        this.clientKeyVersion = stores.clientKeys().version();
        this.apiKeyVersion = stores.apiKeys().version();
        clientKeys.replace(stores.clientKeys().list());
        apiKeys.replace(stores.apiKeys().list());
    }

    static LiveState load(Stores stores) {
        return new LiveState(stores);
    }

    LiveSalts salts() {
        return salts;
    }

    LiveOptOuts optOuts() {
        return optOuts;
    }

    ClientKeys clientKeys() {
        return clientKeys;
    }

    ApiKeys apiKeys() {
        return apiKeys;
    }

    synchronized void refresh() {
        String v = stores.clientKeys().version();
        if (!v.equals(clientKeyVersion)) {
            clientKeys.replace(stores.clientKeys().list());
            clientKeyVersion = v;
        }
        String a = stores.apiKeys().version();
        if (!a.equals(apiKeyVersion)) {
            apiKeys.replace(stores.apiKeys().list());
            apiKeyVersion = a;
        }
        salts.refresh();
        optOuts.refresh(salts.current());
    }

    /** Stops what keeps the store up to date in the background (the salt snapshot writer). */
    void close() {
        salts.close();
    }
}
