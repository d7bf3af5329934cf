package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.SigningSecret;
import idex.exchange.endpoints.SigningSecrets;
import io.vertx.core.http.HttpMethod;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The segment catalog a pull producer publishes: `GET {url}/v1/segments`, answered with
 * `[{"id","name","description","segment_attributes":[{"name","type"}]}]` (an object `{"segments":[…]}` is read too).
 * The catalog of `GET /v1/endpoint/{endpointId}/segments` (built for push producers in idex.exchange.segments)
 * is fed from here for pull producers: see {@link #catalogItems}.
 */
public final class PartnerSegments {

    /** One segment the partner offers; `attributes` is its `segment_attributes` array as sent (may be empty). */
    public record PartnerSegment(String id, String name, String description, JsonNode attributes) {
    }

    /** The secrets that sign a call to an endpoint now ({@link SigningSecrets#signing}). */
    @FunctionalInterface
    public interface Secrets {
        List<SigningSecret> signing(long endpointId, long now);
    }

    private final PartnerClient client;
    private final Secrets secrets;
    private final LongSupplier clock;

    public PartnerSegments(PartnerClient client, Secrets secrets, LongSupplier clock) {
        this.client = client;
        this.secrets = secrets;
        this.clock = clock;
    }

    /** The partner's segments now. Blocks: worker threads only. */
    public List<PartnerSegment> segments(Endpoint producer) throws PartnerCallFailed {
        String url = producer.registration().url();
        if (url == null) {
            throw new PartnerCallFailed("endpoint " + producer.endpointId() + " has no url to ask for its segments");
        }
        PartnerClient.Answer a = client.call(HttpMethod.GET, PartnerPaths.under(url, "/v1/segments"), null,
                secrets.signing(producer.endpointId(), clock.getAsLong()), Map.of());
        if (!a.ok()) {
            throw new PartnerCallFailed("GET /v1/segments answered " + a.describe());
        }
        JsonNode json = a.json();
        JsonNode list = json != null && json.isObject() ? json.path("segments") : json;
        if (list == null || !list.isArray()) {
            throw new PartnerCallFailed("GET /v1/segments did not answer a JSON array of segments");
        }
        List<PartnerSegment> out = new ArrayList<>();
        for (JsonNode s : list) {
            JsonNode id = s.path("id");
            if (!id.isTextual() && !id.isIntegralNumber()) {
                throw new PartnerCallFailed("GET /v1/segments answered a segment without an \"id\": " + s);
            }
            out.add(new PartnerSegment(id.asText(), s.path("name").asText(null), s.path("description").asText(null),
                    s.path("segment_attributes")));
        }
        return out;
    }

    /**
     * The catalog items of `GET /v1/endpoint/{endpointId}/segments` for a pull producer, in the catalog's item shape
     * `{"id","name","description","segment_attributes"}`: the merge with the catalog (issue 15, item 1) calls this
     * where a pull producer's catalog is read or refreshed (`?refresh=true`), and caches the answer as it stores a
     * push producer's list.
     */
    public List<com.fasterxml.jackson.databind.node.ObjectNode> catalogItems(Endpoint producer)
            throws PartnerCallFailed {
        List<com.fasterxml.jackson.databind.node.ObjectNode> items = new ArrayList<>();
        for (PartnerSegment s : segments(producer)) {
            var o = idex.json.Json.object();
            o.put("id", s.id());
            o.put("name", s.name());
            o.put("description", s.description());
            o.set("segment_attributes", s.attributes().isArray() ? s.attributes() : idex.json.Json.MAPPER.createArrayNode());
            items.add(o);
        }
        return items;
    }
}
