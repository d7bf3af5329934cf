package idex.uid2.map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;
import idex.uid2.clients.ClientKey;
import idex.uid2.envelope.DecodedRequest;
import idex.uid2.envelope.Uid2Answer;
import idex.uid2.envelope.Uid2ClientError;
import idex.uid2.salts.LiveSalts;
import idex.uid2.salts.SaltBuckets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;

/** `POST /v2/identity/map` and `POST /v3/identity/map`. */
public final class IdentityMapEndpoints {

    static final String V2_MISSING = "Required Parameter Missing: exactly one of [email, email_hash, phone, phone_hash] must be specified";
    static final String V3_MISSING = "Required Parameter Missing: one or more of [email, email_hash, phone, phone_hash] must be specified";
    static final String BAD_FORMAT = "Incorrect request format";

    /** The four input kinds, in the order both versions answer them. */
    private enum Input {
        EMAIL("email", IdentityType.EMAIL, false),
        EMAIL_HASH("email_hash", IdentityType.EMAIL, true),
        PHONE("phone", IdentityType.PHONE, false),
        PHONE_HASH("phone_hash", IdentityType.PHONE, true);

        final String field;
        final IdentityType type;
        final boolean hashed;

        Input(String field, IdentityType type, boolean hashed) {
            this.field = field;
            this.type = type;
            this.hashed = hashed;
        }
    }

    private final LiveSalts salts;
    private final LiveOptOuts optOuts;
    private final LongSupplier clock;
    private final ThreadLocal<IdentityMapper> mappers;

    public IdentityMapEndpoints(LiveSalts salts, LiveOptOuts optOuts, int scopeBit, int envBits, LongSupplier clock) {
        this.salts = salts;
        this.optOuts = optOuts;
        this.clock = clock;
        this.mappers = ThreadLocal.withInitial(() -> new IdentityMapper(scopeBit, envBits));
    }

    public Uid2Answer v2(DecodedRequest request, ClientKey key) throws Uid2ClientError {
        ObjectNode json = request.json();
        Input chosen = onlyNonEmptyList(json);
        ArrayNode inputs = (ArrayNode) json.get(chosen.field);
        requireStrings(inputs);
        SaltBuckets buckets = salts.current();
        OptOutList optOutList = optOuts.current();
        IdentityMapper mapper = mappers.get();
        long now = clock.getAsLong();
        return success(inputs.size() * 110 + 64, g -> {
            g.writeArrayFieldStart("mapped");
            int unmapped = 0;
            IdentityMapper.Outcome[] outcomes = new IdentityMapper.Outcome[inputs.size()];
            for (int i = 0; i < outcomes.length; i++) {
                String input = inputs.get(i).textValue();
                outcomes[i] = mapper.map(input, chosen.type, chosen.hashed, buckets, optOutList, false, now);
                if (outcomes[i] == IdentityMapper.Outcome.MAPPED) {
                    g.writeStartObject();
                    g.writeStringField("identifier", input);
                    g.writeStringField("advertising_id", mapper.currentUid);
                    g.writeStringField("bucket_id", buckets.bucketKey(mapper.bucketIdx));
                    g.writeEndObject();
                } else {
                    unmapped++;
                }
            }
            g.writeEndArray();
            if (unmapped > 0) {
                g.writeArrayFieldStart("unmapped");
                for (int i = 0; i < outcomes.length; i++) {
                    IdentityMapper.Outcome o = outcomes[i];
                    if (o != IdentityMapper.Outcome.MAPPED) {
                        g.writeStartObject();
                        g.writeStringField("identifier", inputs.get(i).textValue());
                        g.writeStringField("reason", o.reason());
                        g.writeEndObject();
                    }
                }
                g.writeEndArray();
            }
        });
    }

    public Uid2Answer v3(DecodedRequest request, ClientKey key) throws Uid2ClientError {
        ObjectNode json = request.json();
        if (json.isEmpty()) {
            throw new Uid2ClientError(V3_MISSING);
        }
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (List.of("email", "email_hash", "phone", "phone_hash").indexOf(name) < 0) {
                throw new Uid2ClientError(BAD_FORMAT);
            }
            JsonNode node = json.get(name);
            if (!node.isArray()) {
                throw new Uid2ClientError(BAD_FORMAT);
            }
            requireStrings((ArrayNode) node);
        }
        SaltBuckets buckets = salts.current();
        OptOutList optOutList = optOuts.current();
        IdentityMapper mapper = mappers.get();
        long now = clock.getAsLong();
        int total = 0;
        for (JsonNode n : json) {
            total += n.size();
        }
        return success(total * 120 + 128, g -> {
            for (Input in : Input.values()) {
                g.writeArrayFieldStart(in.field);
                JsonNode inputs = json.get(in.field);
                if (inputs != null) {
                    for (JsonNode node : inputs) {
                        IdentityMapper.Outcome o = mapper.map(node.textValue(), in.type, in.hashed, buckets, optOutList, true, now);
                        g.writeStartObject();
                        if (o == IdentityMapper.Outcome.MAPPED) {
                            g.writeStringField("u", mapper.currentUid);
                            g.writeStringField("p", mapper.previousUid);
                            g.writeNumberField("r", buckets.refreshFrom(mapper.bucketIdx) / 1000);
                        } else {
                            g.writeStringField("e", o.reason());
                        }
                        g.writeEndObject();
                    }
                }
                g.writeEndArray();
            }
        });
    }

    /** What goes inside `"body":{…}`. */
    private interface BodyWriter {
        void write(JsonGenerator g) throws IOException;
    }

    /** `{"body":{…},"status":"success"}` with the body's fields written by `body`. */
    private static Uid2Answer success(int sizeHint, BodyWriter body) {
        ByteArrayBuilder out = new ByteArrayBuilder(sizeHint);
        try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeFieldName("body");
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
            g.writeStringField("status", "success");
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Uid2Answer.Whole(out.toByteArray());
    }

    /** v2 takes exactly one non-empty list. */
    private static Input onlyNonEmptyList(ObjectNode json) throws Uid2ClientError {
        Input chosen = null;
        for (Input in : Input.values()) {
            JsonNode node = json.get(in.field);
            if (node != null && node.isArray() && !node.isEmpty()) {
                if (chosen != null) {
                    throw new Uid2ClientError(V2_MISSING);
                }
                chosen = in;
            }
        }
        if (chosen == null) {
            throw new Uid2ClientError(V2_MISSING);
        }
        return chosen;
    }

    private static void requireStrings(ArrayNode array) throws Uid2ClientError {
        for (JsonNode n : array) {
            if (!n.isTextual()) {
                throw new Uid2ClientError(BAD_FORMAT);
            }
        }
    }
}
