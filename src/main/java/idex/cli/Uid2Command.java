package idex.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;
import idex.store.Database;
import idex.store.SecretsKey;
import idex.uid2.DeploymentSettings;
import idex.uid2.clients.ClientKey;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;
import idex.uid2.map.IdentityNormalizer;
import idex.uid2.map.OptOutStore;
import idex.uid2.salts.SaltRotation;
import idex.uid2.salts.SaltSnapshotFiles;
import idex.uid2.salts.SaltSnapshotMetadata;
import idex.uid2.salts.SaltStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** `idex uid2 …`: administration of the UID2/EUID operator. Each command opens the store directly. */
@Command(name = "uid2", mixinStandardHelpOptions = true, description = "Administer the UID2/EUID operator.",
        subcommands = {Uid2Command.Client.class, Uid2Command.Salts.class, Uid2Command.OptOut.class})
public final class Uid2Command {

    @Command(name = "client", mixinStandardHelpOptions = true, description = "Client keys.",
            subcommands = {Client.Create.class, Client.ListKeys.class, Client.Disable.class})
    static final class Client {

        /** The keys in the store, their secrets sealed with the key in the data dir or IDEX_SECRETS_KEY (as `serve`'s). */
        static ClientKeyStore keyStore(StoreOptions store, Database db) {
            return new ClientKeyStore(db.jdbi(), SecretsKey.load(store.dataDir()));
        }

        @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a client key; prints the key and secret once.")
        static final class Create extends AdminCommand {
            @Option(names = "--name", required = true, description = "Who the key is for.")
            String name;
            @Option(names = "--roles", required = true, description = "Comma-separated: MAPPER, GENERATOR, SHARER, ID_READER.")
            String roles;
            @Option(names = "--site", defaultValue = "1", description = "Site id (default ${DEFAULT-VALUE}).")
            int site;
            @Option(names = "--json", description = "Print {\"key\":…,\"secret\":…} as JSON.")
            boolean json;

            @Override
            int run(Database db) {
                DeploymentSettings deployment = DeploymentSettings.resolve(db.jdbi(), null, null, false);
                IssuedClientKey k = keyStore(store, db).create(name, Role.parseList(roles), site, deployment,
                        System.currentTimeMillis());
                if (json) {
                    ObjectNode o = Json.object();
                    o.put("keyId", k.keyId());
                    o.put("key", k.key());
                    o.put("secret", k.secret());
                    o.put("name", k.name());
                    o.put("siteId", k.siteId());
                    o.put("roles", k.roles());
                    System.out.println(Json.write(o));
                } else {
                    System.out.println("key:    " + k.key());
                    System.out.println("secret: " + k.secret());
                    System.out.println("Keep both safe: idex stores only a hash of the key and cannot show it again.");
                }
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List client keys (never their secrets).")
        static final class ListKeys extends AdminCommand {
            @Option(names = "--json", description = "One JSON array.")
            boolean json;

            @Override
            int run(Database db) {
                var keys = keyStore(store, db).list();
                if (json) {
                    var array = Json.MAPPER.createArrayNode();
                    for (ClientKey k : keys) {
                        ObjectNode o = array.addObject();
                        o.put("keyId", k.keyId());
                        o.put("name", k.name());
                        o.put("siteId", k.siteId());
                        o.put("roles", String.join(",", k.roles().stream().map(Enum::name).toList()));
                        o.put("created", Instant.ofEpochMilli(k.created()).toString());
                        o.put("disabled", k.disabled());
                    }
                    System.out.println(Json.write(array));
                } else {
                    System.out.printf("%-24s %-20s %6s %-28s %-9s %s%n", "KEY ID", "NAME", "SITE", "ROLES", "STATE", "CREATED");
                    for (ClientKey k : keys) {
                        System.out.printf("%-24s %-20s %6d %-28s %-9s %s%n", k.keyId(), k.name(), k.siteId(),
                                String.join(",", k.roles().stream().map(Enum::name).toList()),
                                k.disabled() ? "disabled" : "active", Instant.ofEpochMilli(k.created()));
                    }
                }
                return 0;
            }
        }

        @Command(name = "disable", mixinStandardHelpOptions = true, description = "Disable a client key by its key id.")
        static final class Disable extends AdminCommand {
            @Parameters(paramLabel = "KEY_ID", description = "The key id shown by `list` (the key up to its '.').")
            String keyId;

            @Override
            int run(Database db) {
                if (!keyStore(store, db).disable(keyId, System.currentTimeMillis())) {
                    System.err.println("No client key with id " + keyId + ".");
                    return 1;
                }
                System.out.println("Disabled " + keyId + ".");
                return 0;
            }
        }
    }

    @Command(name = "salts", mixinStandardHelpOptions = true, description = "Salt buckets.",
            subcommands = {Salts.Rotate.class, Salts.Import.class, Salts.Export.class})
    static final class Salts {

        @Command(name = "rotate", mixinStandardHelpOptions = true, description = "Rotate the oldest eligible salt buckets now.")
        static final class Rotate extends AdminCommand {
            @Option(names = "--fraction", defaultValue = "0.0027397260273972603",
                    description = "Share of all buckets to rotate (default 1/365).")
            double fraction;
            @Option(names = "--min-age-days", defaultValue = "30",
                    description = "Only buckets at least this many days old are eligible (default ${DEFAULT-VALUE}).")
            int minAgeDays;

            @Override
            int run(Database db) {
                SaltRotation.Result r = new SaltRotation(db.jdbi()).rotate(fraction, minAgeDays, System.currentTimeMillis());
                System.out.println("Rotated " + r.rotated() + " salt buckets at " + Instant.ofEpochMilli(r.rotatedAt()) + ".");
                return 0;
            }
        }

        @Command(name = "import", mixinStandardHelpOptions = true,
                description = "Replace the whole salt set, first-level salt and bucket-id secret with a reference-operator snapshot.")
        static final class Import extends AdminCommand {
            @Parameters(paramLabel = "DIR", description = "Directory holding metadata.json and the salts CSV.")
            Path dir;

            @Override
            int run(Database db) throws IOException {
                long now = System.currentTimeMillis();
                SaltSnapshotMetadata meta = SaltSnapshotFiles.readMetadata(dir);
                int n = new SaltStore(db.jdbi()).replaceAll(meta, sink -> {
                    try {
                        SaltSnapshotFiles.readRows(dir, now, sink);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, now);
                System.out.println("Imported " + n + " salt buckets from " + dir + ".");
                return 0;
            }
        }

        @Command(name = "export", mixinStandardHelpOptions = true,
                description = "Write the salt set in the reference operator's snapshot format (metadata.json + salts.txt),"
                        + " owner-only (0600): they are secrets.")
        static final class Export extends AdminCommand {
            @Parameters(paramLabel = "DIR", description = "Directory to write into (created if needed).")
            Path dir;

            @Override
            int run(Database db) throws IOException {
                Files.createDirectories(dir);
                SaltStore salts = new SaltStore(db.jdbi());
                var s = salts.settings().orElseThrow(() -> new IllegalStateException("the store has no salt buckets yet"));
                SaltSnapshotMetadata meta = new SaltSnapshotMetadata(s.firstLevelSalt(), s.idPrefix(), s.idSecret());
                salts.readAllRows(rows -> SaltSnapshotFiles.write(dir, meta, System.currentTimeMillis(), s.bucketCount(), rows));
                System.out.println("Exported " + s.bucketCount() + " salt buckets to " + dir + ".");
                return 0;
            }
        }
    }

    @Command(name = "optout", mixinStandardHelpOptions = true, description = "Opted-out identities.",
            subcommands = {OptOut.Add.class})
    static final class OptOut {

        @Command(name = "add", mixinStandardHelpOptions = true,
                description = "Opt out an email, a phone (+digits) or, with --hash, a SHA-256 identity hash (base64 or hex).")
        static final class Add extends AdminCommand {
            @Option(names = "--hash", description = "The identity hash instead of an email or phone.")
            String hash;
            @Parameters(paramLabel = "EMAIL|PHONE", arity = "0..1")
            String identity;

            @Override
            int run(Database db) {
                if ((hash == null) == (identity == null)) {
                    System.err.println("Give exactly one of EMAIL|PHONE or --hash H.");
                    return 2;
                }
                byte[] identityHash = hash != null ? IdentityNormalizer.decodeHash(hash.trim()) : OptOutStore.identityHashOf(identity);
                if (identityHash == null) {
                    System.err.println(hash != null ? "The hash must be 44 characters of base64 or 64 of hex."
                            : "Not a valid email or phone number (+ then 10 to 15 digits).");
                    return 2;
                }
                boolean added = new OptOutStore(db.jdbi()).add(identityHash, System.currentTimeMillis());
                System.out.println(added ? "Opted out." : "Already opted out.");
                return 0;
            }
        }
    }
}
