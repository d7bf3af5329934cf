package idex.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import idex.exchange.accounts.Account;
import idex.exchange.accounts.AccountStore;
import idex.json.Json;
import idex.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;

/** `idex account …`: exchange accounts. */
@Command(name = "account", mixinStandardHelpOptions = true, description = "Exchange accounts.",
        subcommands = {AccountCommand.Create.class, AccountCommand.ListAccounts.class})
public final class AccountCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create an account; prints its id and its account-level key (shown once).")
    static final class Create extends AdminCommand {
        @Parameters(paramLabel = "NAME", description = "The account's name.")
        String name;
        @Option(names = "--json", description = "Print {\"accountId\":…,\"key\":…} as JSON.")
        boolean json;

        @Override
        int run(Database db) {
            AccountStore.Created c = new AccountStore(db.jdbi()).create(name, System.currentTimeMillis());
            if (json) {
                System.out.println(Json.write(Json.object().put("accountId", c.account().accountId())
                        .put("name", c.account().name()).put("keyId", c.key().keyId()).put("key", c.key().key())));
            } else {
                System.out.println("account: " + c.account().accountId());
                System.out.println("key:     " + c.key().key());
                System.out.println("This account-level key acts across the account. Keep it safe: idex stores only a"
                        + " hash of it and cannot show it again.");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List accounts.")
    static final class ListAccounts extends AdminCommand {
        @Option(names = "--json", description = "One JSON array.")
        boolean json;

        @Override
        int run(Database db) {
            var accounts = new AccountStore(db.jdbi()).list();
            if (json) {
                ArrayNode array = Json.MAPPER.createArrayNode();
                for (Account a : accounts) {
                    array.addObject().put("accountId", a.accountId()).put("name", a.name())
                            .put("created", Instant.ofEpochMilli(a.created()).toString());
                }
                System.out.println(Json.write(array));
            } else {
                System.out.printf("%-10s %-32s %s%n", "ACCOUNT", "NAME", "CREATED");
                for (Account a : accounts) {
                    System.out.printf("%-10d %-32s %s%n", a.accountId(), a.name(), Instant.ofEpochMilli(a.created()));
                }
            }
            return 0;
        }
    }
}
