package idex.exchange.filters;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.endpoints.Registration;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * One filter as `POST` and `PUT /v1/identityfilters` send it, validated. The whole array is checked before
 * anything is stored, so bad input changes nothing.
 */
public record RequestedFilter(String identifierName, boolean publishFilter, boolean subscribeFilter) {

    /** Bounds one transaction; an endpoint declares at most 1000 identifiers, so one request can cover them all. */
    public static final int MAX_PER_REQUEST = 1000;

    private static final String EXAMPLE = "[{\"identifierName\":\"email\",\"publishFilter\":true,\"subscribeFilter\":false}]";
    /** The fields of the answer's shape: accepted so that a client can send back what GET gave it. */
    private static final Set<String> ANSWER_ONLY = Set.of("endpointFilterId", "endpointId");
    private static final Set<String> FIELDS = Set.of("identifierName", "publishFilter", "subscribeFilter");

    /** The filters of a request body that acts on `endpointId`. */
    public static List<RequestedFilter> parseAll(JsonNode body, long endpointId) {
        if (!body.isArray()) {
            throw Refusal.invalid("The body must be a JSON array of filters, e.g. " + EXAMPLE + ".");
        }
        if (body.isEmpty()) {
            throw Refusal.invalid("The array is empty: send at least one filter, e.g. " + EXAMPLE + ".");
        }
        if (body.size() > MAX_PER_REQUEST) {
            throw Refusal.invalid("The array holds " + body.size() + " filters: send at most " + MAX_PER_REQUEST
                    + " per request.");
        }
        List<RequestedFilter> filters = new ArrayList<>(body.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < body.size(); i++) {
            RequestedFilter f = parse(body.get(i), i, endpointId);
            if (!names.add(f.identifierName())) {
                throw Refusal.invalid("identifierName \"" + f.identifierName() + "\" appears more than once: send"
                        + " one filter per identifier.");
            }
            filters.add(f);
        }
        return List.copyOf(filters);
    }

    private static RequestedFilter parse(JsonNode item, int index, long endpointId) {
        String where = "Filter [" + index + "]";
        if (!item.isObject()) {
            throw Refusal.invalid(where + " must be an object like " + EXAMPLE.substring(1, EXAMPLE.length() - 1) + ".");
        }
        for (Iterator<String> it = item.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field) && !ANSWER_ONLY.contains(field)) {
                // Silently ignoring e.g. "publisherFilter" would store a filter other than the one meant.
                throw Refusal.invalid(where + " has an unknown field \"" + field + "\": a filter has identifierName,"
                        + " publishFilter and subscribeFilter.");
            }
        }
        JsonNode n = item.path("identifierName");
        if (n.isMissingNode() || n.isNull() || (n.isTextual() && n.textValue().isEmpty())) {
            throw Refusal.invalid(where + " needs \"identifierName\": the name of the identifier to filter.");
        }
        if (!n.isTextual() || !Registration.isValidName(n.textValue())) {
            throw Refusal.invalid(where + ": identifierName " + n + " is not valid: " + Registration.NAME_RULE + ".");
        }
        String name = n.textValue();
        JsonNode e = item.path("endpointId");
        boolean sameEndpoint = e.isIntegralNumber() && e.canConvertToLong() && e.longValue() == endpointId
                || e.isTextual() && e.textValue().equals(Long.toString(endpointId));
        if (!e.isMissingNode() && !e.isNull() && !sameEndpoint) {
            throw Refusal.invalid("The filter for \"" + name + "\" names endpointId " + e + " but this request acts on"
                    + " endpoint " + endpointId + ": drop endpointId from the filter, or send the request for endpoint " + e
                    + " (its key, or ?endpointId=" + e + " with an account key).");
        }
        boolean publish = flag(item, "publishFilter", name);
        boolean subscribe = flag(item, "subscribeFilter", name);
        if (!publish && !subscribe) {
            throw Refusal.invalid("The filter for \"" + name + "\" filters nothing: set publishFilter or"
                    + " subscribeFilter to true (to stop filtering it, DELETE /v1/identityfilters/" + name + ").");
        }
        return new RequestedFilter(name, publish, subscribe);
    }

    /** A missing (or null) flag is false. */
    private static boolean flag(JsonNode item, String field, String name) {
        JsonNode v = item.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw Refusal.invalid(field + " of the filter for \"" + name + "\" must be true or false, not " + v + ".");
        }
        return v.booleanValue();
    }
}
