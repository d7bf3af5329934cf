package idex.cli;

import idex.store.Database;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** An admin command: opens the store named by `--data-dir`/`--db-url` (server running or not), runs, closes it. */
abstract class AdminCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Override
    public final Integer call() throws Exception {
        try (Database db = store.openForAdmin()) {
            return run(db);
        }
    }

    abstract int run(Database db) throws Exception;
}
