package idex.cli;

import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * A client command of the exchange API: calls a running server over HTTP with `--url` and `--key`. A failure prints
 * one line, `idex: …`, on standard error and exits with its {@link ExitCodes} code.
 */
abstract class ExchangeCommand implements Callable<Integer> {

    @Mixin
    ExchangeOptions exchange;

    @Override
    public final Integer call() throws Exception {
        try {
            return run(exchange.connect());
        } catch (CommandFailure e) {
            System.err.println("idex: " + e.getMessage());
            return e.exitCode();
        }
    }

    abstract int run(ExchangeApiClient api) throws Exception;
}
