package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.accounts.AccountStore;

/** Sets up accounts and endpoints of a {@link TestServer} the way an operator and its users would. */
public final class ExchangeAccounts {

    private ExchangeAccounts() {
    }

    /** An account and a client holding its account-level key. */
    public record TestAccount(long accountId, ExchangeClient client) {
    }

    /** A registered endpoint and a client holding its endpoint-level key. */
    public record TestEndpoint(long endpointId, ExchangeClient client, JsonNode registration) {
    }

    /** Creates an account directly in the store, as `idex account create` does. */
    public static TestAccount account(TestServer server, String name) {
        AccountStore.Created c = new AccountStore(server.database().jdbi()).create(name, System.currentTimeMillis());
        server.refreshNow();
        return new TestAccount(c.account().accountId(), new ExchangeClient(server, c.key().key()));
    }

    /** Registers an endpoint through `POST /v1/endpoint`. */
    public static TestEndpoint endpoint(TestServer server, TestAccount account, String registrationJson) {
        ExchangeClient.Answer a = account.client().post("/v1/endpoint", registrationJson);
        if (a.status() != 201) {
            throw new IllegalStateException("registration failed: " + a.status() + " " + a.body());
        }
        JsonNode json = a.json();
        return new TestEndpoint(json.get("endpointId").asLong(), new ExchangeClient(server, json.get("key").asText()), json);
    }

    /** A registration: an audience source or destination (push/pull), or "event" for an event source. */
    public static String registration(String name, String role, String mode, String identifiersJson) {
        String audience = switch (role) {
            case "source" -> "\"audience\":{\"source\":{\"enabled\":true,\"producerType\":\"" + mode + "\"}},";
            case "destination" -> "\"audience\":{\"destination\":{\"enabled\":true,\"destinationType\":\"" + mode + "\"}},";
            default -> "";
        };
        // Every test endpoint is also an event source, so that tests can feed the identity store with events.
        return "{\"name\":\"" + name + "\",\"endpointTypes\":{" + audience + "\"event\":{\"source\":{\"enabled\":true}}},"
                + "\"identifiers\":" + identifiersJson + ",\"attributes\":[{\"name\":\"firstName\",\"type\":\"string\"}]}";
    }
}
