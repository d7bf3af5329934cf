package idex.exchange.filters;

import idex.exchange.accounts.AccountStore;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.json.Json;
import idex.store.Database;
import idex.store.StoreLocation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link IdentityFilterRules} and {@link WithheldIdentifiers} on a store of their own, without HTTP. */
class IdentityFilterRulesTest {

    @TempDir
    static Path dir;
    static Database db;
    static IdentityFilterStore filters;
    static IdentityFilterRules rules;
    static long acme;
    static long other;

    @BeforeAll
    static void open() {
        db = Database.open(StoreLocation.of(null, dir), 2, Database.Holder.SERVER);
        filters = new IdentityFilterStore(db.jdbi());
        rules = new IdentityFilterRules(db.jdbi());
        AccountStore accounts = new AccountStore(db.jdbi());
        acme = accounts.create("Acme", 1).account().accountId();
        other = accounts.create("Other", 1).account().accountId();
    }

    @AfterAll
    static void close() {
        db.close();
    }

    private static long endpoint(long account) throws Exception {
        Registration r = Registration.parse(Json.MAPPER.readTree(
                "{\"name\":\"e\",\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true},\"destination\":{\"enabled\":true}}}}"));
        return new EndpointStore(db.jdbi(), new idex.exchange.endpoints.SigningSecrets(db.jdbi(),
                idex.store.SecretsKey.of(new byte[32], "test"))).create(account, r, 1).endpoint().endpointId();
    }

    private static void filter(long account, long endpoint, String name, boolean publish, boolean subscribe) {
        filters.add(account, endpoint, List.of(new RequestedFilter(name, publish, subscribe)));
    }

    @Test
    void withholdsWhatTheSourcePublishFiltersAndTheDestinationSubscribeFilters() throws Exception {
        long source = endpoint(acme);
        long destination = endpoint(acme);
        long bystander = endpoint(acme);
        filter(acme, source, "email", true, false);
        filter(acme, source, "both", true, true);
        filter(acme, source, "sourceReceivesNot", false, true);
        filter(acme, destination, "cookieId", false, true);
        filter(acme, destination, "destinationPublishesNot", true, false);
        filter(acme, bystander, "phone", true, true);

        assertThat(rules.between(acme, source, destination).names())
                .containsExactlyInAnyOrder("email", "both", "cookieId");
        assertThat(rules.between(acme, destination, source).names())
                .containsExactlyInAnyOrder("destinationPublishesNot", "both", "sourceReceivesNot");
        assertThat(rules.between(acme, source, bystander).names())
                .containsExactlyInAnyOrder("email", "both", "phone");
    }

    @Test
    void anIdentifierFilteredOnBothSidesIsWithheldOnce() throws Exception {
        long source = endpoint(acme);
        long destination = endpoint(acme);
        filter(acme, source, "email", true, false);
        filter(acme, destination, "email", false, true);
        assertThat(rules.between(acme, source, destination).names()).containsExactly("email");
    }

    @Test
    void aRouteWithoutFiltersWithholdsNothing() throws Exception {
        assertThat(rules.between(acme, endpoint(acme), endpoint(acme)).isEmpty()).isTrue();
    }

    @Test
    void onlyTheNamedAccountsFiltersCount() throws Exception {
        long source = endpoint(other);
        long destination = endpoint(other);
        filter(other, source, "email", true, false);
        filter(other, destination, "cookieId", false, true);
        assertThat(rules.between(other, source, destination).names()).containsExactlyInAnyOrder("email", "cookieId");
        assertThat(rules.between(acme, source, destination).isEmpty()).isTrue();
    }

    @Test
    void stripsAMapOfIdentifiersKeepingItsOrder() {
        WithheldIdentifiers withheld = new WithheldIdentifiers(Set.of("email", "phone"));
        Map<String, String> record = new LinkedHashMap<>();
        record.put("userId", "u");
        record.put("email", "a@example.com");
        record.put("cookieId", "c");
        record.put("phone", "+1");
        assertThat(withheld.strip(record)).containsExactly(Map.entry("userId", "u"), Map.entry("cookieId", "c"));
        assertThat(record).as("the input is left alone").hasSize(4);
        assertThat(withheld.allows("Email")).as("names compare exactly, as declared").isTrue();
        assertThat(withheld.allows("email")).isFalse();
    }

    @Test
    void stripsAListOfItemsByTheirIdentifierName() {
        record Id(String name, String value) {
        }
        WithheldIdentifiers withheld = new WithheldIdentifiers(Set.of("email"));
        List<Id> ids = List.of(new Id("email", "a"), new Id("cookieId", "c"), new Id("email", "b"), new Id("userId", "u"));
        assertThat(withheld.strip(ids, Id::name)).containsExactly(new Id("cookieId", "c"), new Id("userId", "u"));
        assertThat(WithheldIdentifiers.NONE.strip(ids, Id::name)).isEqualTo(ids);
        assertThat(WithheldIdentifiers.NONE.strip(Map.of("email", "a"))).containsEntry("email", "a");
    }
}
