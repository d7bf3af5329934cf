package idex.cli;

import picocli.CommandLine.Option;

/** Where the exchange API is and the bearer key to call it with, shared by the client commands (`idex jobs …`). */
public final class ExchangeOptions {

    @Option(names = "--url", defaultValue = "${env:IDEX_URL:-http://127.0.0.1:8080}",
            description = "Base URL of the idex server (env IDEX_URL; default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--key", defaultValue = "${env:IDEX_KEY}",
            description = "Exchange API key: an account-level key or an endpoint's key (env IDEX_KEY).")
    String key;

    ExchangeApiClient connect() throws CommandFailure {
        return ExchangeApiClient.of(url, key);
    }
}
