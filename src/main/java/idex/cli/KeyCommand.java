package idex.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.accounts.ApiKey;
import idex.exchange.accounts.ApiKeyStore;
import idex.exchange.accounts.IssuedApiKey;
import idex.json.Json;
import idex.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;

/** `idex key …`: bearer keys of the exchange API. */
@Command(name = "key", mixinStandardHelpOptions = true, description = "Exchange API keys.",
        subcommands = {KeyCommand.Create.class, KeyCommand.ListKeys.class, KeyCommand.Revoke.class})
public final class KeyCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Issue a key: account-level, or endpoint-level with --endpoint. Printed once.")
    static final class Create extends AdminCommand {
        @Option(names = "--account", required = true, description = "Account id.")
        long account;
        @Option(names = "--endpoint", description = "Endpoint id: the key then acts as that endpoint.")
        Long endpoint;
        @Option(names = "--json", description = "Print {\"keyId\":…,\"key\":…} as JSON.")
        boolean json;

        @Override
        int run(Database db) {
            IssuedApiKey k = new ApiKeyStore(db.jdbi()).create(account, endpoint, System.currentTimeMillis());
            if (json) {
                ObjectNode o = Json.object().put("keyId", k.keyId()).put("key", k.key()).put("accountId", account);
                if (endpoint != null) {
                    o.put("endpointId", endpoint);
                }
                System.out.println(Json.write(o));
            } else {
                System.out.println("key id: " + k.keyId());
                System.out.println("key:    " + k.key());
                System.out.println("Keep it safe: idex stores only a hash of it and cannot show it again.");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the keys of an account (never the keys themselves).")
    static final class ListKeys extends AdminCommand {
        @Option(names = "--account", required = true, description = "Account id.")
        long account;
        @Option(names = "--json", description = "One JSON array.")
        boolean json;

        @Override
        int run(Database db) {
            var keys = new ApiKeyStore(db.jdbi()).listForAccount(account);
            if (json) {
                ArrayNode array = Json.MAPPER.createArrayNode();
                for (ApiKey k : keys) {
                    ObjectNode o = array.addObject().put("keyId", k.keyId()).put("accountId", k.accountId());
                    if (k.endpointId() != null) {
                        o.put("endpointId", k.endpointId());
                    }
                    o.put("created", Instant.ofEpochMilli(k.created()).toString()).put("revoked", k.isRevoked());
                }
                System.out.println(Json.write(array));
            } else {
                System.out.printf("%-14s %-10s %-10s %-8s %s%n", "KEY ID", "ACCOUNT", "ENDPOINT", "STATE", "CREATED");
                for (ApiKey k : keys) {
                    System.out.printf("%-14s %-10d %-10s %-8s %s%n", k.keyId(), k.accountId(),
                            k.endpointId() == null ? "(account)" : k.endpointId().toString(),
                            k.isRevoked() ? "revoked" : "active", Instant.ofEpochMilli(k.created()));
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a key by its key id; a running server refuses it within seconds.")
    static final class Revoke extends AdminCommand {
        @Parameters(paramLabel = "KEY_ID", description = "The key id (the part of the key after idex_ and before the next _).")
        String keyId;

        @Override
        int run(Database db) {
            if (!new ApiKeyStore(db.jdbi()).revoke(keyId, System.currentTimeMillis())) {
                System.err.println("No active key with id " + keyId + ".");
                return 1;
            }
            System.out.println("Revoked " + keyId + ".");
            return 0;
        }
    }
}
