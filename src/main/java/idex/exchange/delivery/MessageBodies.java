package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.identity.X1Ids;
import idex.json.Json;
import org.jdbi.v3.core.Jdbi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The JSON a message carries, built when it is sent: each event with its x1Id and every identifier that x1 holds in
 * the store now (whichever endpoint contributed it), minus what identity filters withhold on the way out — names the
 * source publish-filters or the destination subscribe-filters, and values that only endpoints publish-filtering
 * their name contributed (the same rule as a segment export's). A destination with a batch size above one, or a
 * message of several events, gets `{"events":[…]}`; otherwise the event alone.
 */
public final class MessageBodies {

    private record Stored(long deliveryId, long eventId, long sourceEndpointId, String sourceName, String provider,
                          long x1, String content) {
    }

    private final Jdbi jdbi;
    private final X1Ids x1Ids;

    public MessageBodies(Jdbi jdbi, X1Ids x1Ids) {
        this.jdbi = jdbi;
        this.x1Ids = x1Ids;
    }

    /** The body of one message. */
    public byte[] body(Message message, boolean batching) {
        return bodies(List.of(message), batching).get(message.messageId());
    }

    /**
     * The bodies of messages claimed together (one destination's, so one account's), by message id: three reads of
     * the store for all of them, not three per message.
     */
    public Map<Long, byte[]> bodies(List<Message> messages, boolean batching) {
        if (messages.isEmpty()) {
            return Map.of();
        }
        Message message = messages.get(0);
        Long[] deliveryIds = messages.stream().flatMap(m -> m.deliveryIds().stream()).toArray(Long[]::new);
        return jdbi.withHandle(h -> {
            Map<Long, Stored> byDelivery = new HashMap<>();
            h.createQuery("SELECT d.delivery_id, e.event_id, e.source_endpoint_id, src.name, a.name,"
                            + " COALESCE(p.merged_into, e.x1), e.content FROM exchange_delivery d"
                            + " JOIN UNNEST(:ids) AS t(id) ON d.delivery_id = t.id"
                            + " JOIN exchange_event e ON e.event_id = d.event_id"
                            + " JOIN exchange_endpoint src ON src.endpoint_id = e.source_endpoint_id"
                            + " JOIN exchange_account a ON a.account_id = e.account_id"
                            + " LEFT JOIN x1_person p ON p.x1 = e.x1")
                    .bind("ids", deliveryIds)
                    .map((rs, ctx) -> new Stored(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4),
                            rs.getString(5), rs.getLong(6), rs.getString(7)))
                    .forEach(s -> byDelivery.put(s.deliveryId(), s));
            Set<Long> x1s = new HashSet<>();
            byDelivery.values().forEach(s -> x1s.add(s.x1()));
            // x1 → name → value → contributors
            Map<Long, Map<String, Map<String, List<Long>>>> held = new HashMap<>();
            h.createQuery("SELECT i.x1, i.id_name, i.id_value, i.endpoint_id FROM x1_identifier i"
                            + " JOIN UNNEST(:x1s) AS t(x) ON i.x1 = t.x")
                    .bind("x1s", x1s.toArray(new Long[0]))
                    .map((rs, ctx) -> new Object[]{rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4)})
                    .forEach(r -> held.computeIfAbsent((Long) r[0], k -> new TreeMap<>())
                            .computeIfAbsent((String) r[1], k -> new TreeMap<>())
                            .computeIfAbsent((String) r[2], k -> new ArrayList<>()).add((Long) r[3]));
            Set<String> subscribeFiltered = new HashSet<>();
            Map<Long, Set<String>> publishFiltered = new HashMap<>();
            h.createQuery("SELECT endpoint_id, identifier_name, publish_filter, subscribe_filter"
                            + " FROM exchange_identity_filter WHERE account_id = :a"
                            + " AND (publish_filter = TRUE OR (endpoint_id = :d AND subscribe_filter = TRUE))")
                    .bind("a", message.accountId()).bind("d", message.destinationEndpointId())
                    .map((rs, ctx) -> new Object[]{rs.getLong(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)})
                    .forEach(r -> {
                        if ((Boolean) r[2]) {
                            publishFiltered.computeIfAbsent((Long) r[0], k -> new HashSet<>()).add((String) r[1]);
                        }
                        if ((Long) r[0] == message.destinationEndpointId() && (Boolean) r[3]) {
                            subscribeFiltered.add((String) r[1]);
                        }
                    });

            Map<Long, byte[]> bodies = new HashMap<>();
            for (Message m : messages) {
                List<ObjectNode> events = new ArrayList<>();
                for (long deliveryId : m.deliveryIds()) {
                    Stored stored = byDelivery.get(deliveryId);
                    if (stored == null) {
                        continue; // pruned meanwhile: nothing is left to send of it
                    }
                    events.add(event(stored, held.getOrDefault(stored.x1(), Map.of()), subscribeFiltered,
                            publishFiltered));
                }
                JsonNode body;
                if (batching || events.size() > 1) {
                    ObjectNode wrapper = Json.object();
                    ArrayNode array = wrapper.putArray("events");
                    events.forEach(array::add);
                    body = wrapper;
                } else {
                    body = events.isEmpty() ? Json.object().putArray("events") : events.get(0);
                }
                bodies.put(m.messageId(), Json.write(body).getBytes(StandardCharsets.UTF_8));
            }
            return bodies;
        });
    }

    private ObjectNode event(Stored s, Map<String, Map<String, List<Long>>> identifiers, Set<String> subscribeFiltered,
                             Map<Long, Set<String>> publishFiltered) {
        JsonNode content = Json.readStored(s.content());
        ObjectNode o = Json.object();
        o.put("eventId", s.eventId());
        o.put("provider", s.provider());
        o.put("source", s.sourceName());
        o.put("sourceEndpointId", s.sourceEndpointId());
        o.set("channel", content.get("channel"));
        o.set("code", content.get("code"));
        o.set("timestamp", content.get("timestamp"));
        o.put("x1Id", x1Ids.encode(s.x1()));
        Set<String> sourceWithholds = publishFiltered.getOrDefault(s.sourceEndpointId(), Set.of());
        ArrayNode ids = o.putArray("identifiers");
        identifiers.forEach((name, values) -> { // TreeMaps: by name, then value
            if (subscribeFiltered.contains(name) || sourceWithholds.contains(name)) {
                return;
            }
            values.forEach((value, contributors) -> {
                boolean sendable = contributors.stream()
                        .anyMatch(c -> !publishFiltered.getOrDefault(c, Set.of()).contains(name));
                if (sendable) {
                    ids.addObject().put("name", name).put("value", value);
                }
            });
        });
        o.set("attributes", content.get("attributes"));
        return o;
    }
}
