package idex;

import idex.exchange.accounts.ApiKeyStore;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.SigningSecrets;
import idex.exchange.filters.IdentityFilterRules;
import idex.exchange.filters.IdentityFilterStore;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.X1Ids;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.schedule.ScheduledJobStore;
import idex.exchange.subscriptions.EventTypeStore;
import idex.exchange.subscriptions.SubscriptionStore;
import idex.store.Database;
import idex.store.SecretsKey;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.map.OptOutStore;
import idex.uid2.salts.SaltRotation;
import idex.uid2.salts.SaltStore;

import java.nio.file.Path;

/** What the server keeps in PostgreSQL, one store per feature, all on the server's one connection pool. */
record Stores(SaltStore salts, SaltRotation saltRotation, ClientKeyStore clientKeys, OptOutStore optOuts,
              ApiKeyStore apiKeys, EndpointStore endpoints, IdentityStore identities, X1Ids x1Ids, JobStore jobs,
              ScheduledJobStore scheduledJobs, IdentityFilterStore filters, IdentityFilterRules filterRules,
              EventTypeStore eventTypes, SubscriptionStore subscriptions) {

    /** `dataDir` holds the key that seals client and signing secrets and, as `saltSetCopy`, the server's copy of the salt set. */
    static Stores open(Database db, Path dataDir, String saltSetCopy) {
        var jdbi = db.jdbi();
        SecretsKey sealing = SecretsKey.load(dataDir);
        return new Stores(new SaltStore(jdbi, dataDir.resolve(saltSetCopy)), new SaltRotation(jdbi),
                new ClientKeyStore(jdbi, sealing), new OptOutStore(jdbi), new ApiKeyStore(jdbi),
                new EndpointStore(jdbi, new SigningSecrets(jdbi, sealing)), new IdentityStore(jdbi),
                X1Ids.of(jdbi), new JobStore(jdbi), new ScheduledJobStore(jdbi), new IdentityFilterStore(jdbi),
                new IdentityFilterRules(jdbi), new EventTypeStore(jdbi), new SubscriptionStore(jdbi));
    }
}
