package idex.exchange.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Schema version 8: identifier values stored before {@link ValueForm} existed are put in the form the store now
 * keeps (emails trimmed and lower-cased, phones in E.164), for the identifiers each endpoint declared "email" or
 * "phone". Two x1s that then hold the same identifier are merged into the oldest by rule 3 of the resolution
 * rule, unless the merge is blocked (over 1000 identifiers, different values of an identifier the contributing
 * endpoint declared unique): they stay apart, sharing it, as after any blocked merge.
 *
 * <p>Java rather than SQL: the declared types live in the registrations' JSON, the merge must block exactly as
 * resolution does (which {@link IdentityStore} already decides), and Java's lower-casing is the one exports hash
 * with, whatever the database's locale. It runs once, in Flyway's transaction, before any server uses the store.
 * A stored phone that is no E.164 number is left as it is (logged): there is no right number to guess.
 */
public final class StoredFormMigration implements JavaMigration {

    private static final Logger LOG = LoggerFactory.getLogger(StoredFormMigration.class);
    /** Rewritten values per write-and-merge step: bounds memory on a large store. */
    private static final int CHUNK = 1000;
    /**
     * Values that may change: SQL picks the candidates (a value of only these characters is already in its form)
     * so that an index-ordered scan skips the vast majority; Java decides.
     */
    private static final String EMAIL_MAY_CHANGE = "[^a-z0-9!#$%&'*+/=?^_`{|}~.@-]";
    private static final String PHONE_IN_FORM = "^\\+[0-9]{10,15}$";

    @Override
    public MigrationVersion getVersion() {
        return MigrationVersion.fromVersion("8");
    }

    @Override
    public String getDescription() {
        return "identifier values in stored form";
    }

    @Override
    public Integer getChecksum() {
        return null;
    }

    @Override
    public boolean canExecuteInTransaction() {
        return true;
    }

    @Override
    public void migrate(Context context) throws JsonProcessingException {
        // The handle borrows Flyway's connection and transaction; Flyway closes and commits them.
        Handle h = Jdbi.open(context.getConnection());
        int rewritten = 0;
        int merged = 0;
        int leftAlone = 0;
        for (DeclaringEndpoint e : declaringEndpoints(h)) {
            for (Map.Entry<String, ValueForm> id : e.forms().entrySet()) {
                List<Change> changes = new ArrayList<>();
                for (Change c : candidates(h, e, id.getKey(), id.getValue())) {
                    if (c.stored() == null) {
                        leftAlone++;
                    } else if (!c.stored().equals(c.value())) {
                        changes.add(c);
                    }
                }
                for (int from = 0; from < changes.size(); from += CHUNK) {
                    List<Change> chunk = changes.subList(from, Math.min(changes.size(), from + CHUNK));
                    rewrite(h, e, id.getKey(), chunk);
                    Set<Identifier> touched = new LinkedHashSet<>();
                    chunk.forEach(c -> touched.add(new Identifier(id.getKey(), c.stored())));
                    merged += IdentityStore.mergeHolders(h, e.accountId(), e.uniqueNames(), List.copyOf(touched));
                    rewritten += chunk.size();
                }
            }
        }
        if (rewritten > 0 || leftAlone > 0) {
            LOG.info("Identifier values put in stored form: {} rewritten, {} x1Ids merged, {} phone values left as they"
                    + " are (not E.164)", rewritten, merged, leftAlone);
        }
    }

    /** An endpoint that declared email or phone identifiers, with the names it declared unique. */
    private record DeclaringEndpoint(long endpointId, long accountId, Map<String, ValueForm> forms,
                                     Set<String> uniqueNames) {
    }

    /** A stored value and its stored form (null when there is none). */
    private record Change(long x1, String value, String stored) {
    }

    private static List<DeclaringEndpoint> declaringEndpoints(Handle h) throws JsonProcessingException {
        List<DeclaringEndpoint> found = new ArrayList<>();
        List<Map.Entry<long[], String>> rows = h.createQuery("SELECT endpoint_id, account_id, registration"
                        + " FROM exchange_endpoint ORDER BY endpoint_id")
                .map((rs, ctx) -> Map.entry(new long[]{rs.getLong(1), rs.getLong(2)}, rs.getString(3))).list();
        for (Map.Entry<long[], String> row : rows) {
            Map<String, ValueForm> forms = new HashMap<>();
            Set<String> unique = new HashSet<>();
            for (JsonNode i : Json.MAPPER.readTree(row.getValue()).path("identifiers")) {
                String name = i.path("name").asText();
                ValueForm form = ValueForm.of(i.path("type").asText(null));
                if (form != ValueForm.AS_SENT) {
                    forms.put(name, form);
                }
                if (i.path("unique").asBoolean(false)) {
                    unique.add(name);
                }
            }
            if (!forms.isEmpty()) {
                found.add(new DeclaringEndpoint(row.getKey()[0], row.getKey()[1], forms, unique));
            }
        }
        return found;
    }

    private static List<Change> candidates(Handle h, DeclaringEndpoint e, String name, ValueForm form) {
        String condition = form == ValueForm.EMAIL ? "id_value ~ :pattern" : "id_value !~ :pattern";
        return h.createQuery("SELECT x1, id_value FROM x1_identifier WHERE account_id = :a AND id_name = :n"
                        + " AND endpoint_id = :e AND " + condition)
                .bind("a", e.accountId()).bind("n", name).bind("e", e.endpointId())
                .bind("pattern", form == ValueForm.EMAIL ? EMAIL_MAY_CHANGE : PHONE_IN_FORM)
                .map((rs, ctx) -> {
                    String value = rs.getString(2);
                    String trimmed = value.trim();
                    return new Change(rs.getLong(1), value, trimmed.isEmpty() ? null : form.normalize(trimmed));
                })
                .list();
    }

    /** Each value becomes its stored form on its x1 (once, if the x1 already held that form too). */
    private static void rewrite(Handle h, DeclaringEndpoint e, String name, List<Change> chunk) {
        PreparedBatch delete = h.prepareBatch("DELETE FROM x1_identifier WHERE account_id = :a AND id_name = :n"
                + " AND id_value = :v AND x1 = :x AND endpoint_id = :e");
        PreparedBatch insert = h.prepareBatch("INSERT INTO x1_identifier (account_id, id_name, id_value, x1, endpoint_id)"
                + " VALUES (:a, :n, :v, :x, :e) ON CONFLICT DO NOTHING");
        for (Change c : chunk) {
            delete.bind("a", e.accountId()).bind("n", name).bind("v", c.value()).bind("x", c.x1())
                    .bind("e", e.endpointId()).add();
            insert.bind("a", e.accountId()).bind("n", name).bind("v", c.stored()).bind("x", c.x1())
                    .bind("e", e.endpointId()).add();
        }
        delete.execute();
        insert.execute();
    }
}
