package idex.support;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading the delivery log (`GET /v1/deliveries`) as a client does. */
public final class DeliveryLogs {

    private DeliveryLogs() {
    }

    /** The entries of one page of the log, `query` as in `?endpointId=3&status=FAILED` (or empty). */
    public static JsonNode entries(ExchangeClient client, String query) {
        ExchangeClient.Answer a = client.get("/v1/deliveries" + query);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get("deliveries");
    }

    /** The HTTP status of each attempt of an entry, in order (null for an attempt that got no answer). */
    public static List<Integer> statuses(JsonNode entry) {
        List<Integer> out = new ArrayList<>();
        entry.get("attempts").forEach(a -> out.add(a.get("httpStatus").isNull() ? null : a.get("httpStatus").asInt()));
        return out;
    }
}
