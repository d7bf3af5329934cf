package idex.exchange.identity;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The identity store of an account: which identifiers belong to which x1 (person), resolved by the rule of spec §2.
 *
 * A batch of records is resolved in one transaction that first locks the account's row: resolutions of one
 * account are serialised (on every node sharing the database), so two overlapping batches sent at the same time
 * give exactly the graph of running them one after the other. Other accounts are not held up. Within the lock a
 * batch costs two lookups (the x1s holding any identifier of the batch, then all identifiers of those x1s), the
 * rule applied in memory, and batched writes of what changed.
 */
public final class IdentityStore {

    /** Identifiers one x1 may hold. */
    public static final int MAX_IDENTIFIERS = 1000;
    /** x1 numbers drawn from the sequence at a time. */
    private static final int ID_BLOCK = 256;

    private final Jdbi jdbi;

    public IdentityStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Resolves records contributed by one endpoint, in a transaction of its own. */
    public Resolution resolve(long accountId, long endpointId, Set<String> uniqueNames, List<List<Identifier>> records, long now) {
        return jdbi.inTransaction(h -> resolve(h, accountId, endpointId, uniqueNames, records, now));
    }

    /** Resolves records inside the caller's transaction (so that a caller's own writes commit with it). */
    public Resolution resolve(Handle h, long accountId, long endpointId, Set<String> uniqueNames,
                              List<List<Identifier>> records, long now) {
        lockAccount(h, accountId);
        Batch batch = new Batch(h, accountId, endpointId, uniqueNames, now);
        return batch.run(records);
    }

    /**
     * Merges by rule 3 the x1s that hold the same identifier (each of `identifiers`) into the oldest, unless the merge
     * is blocked (the union would pass {@link #MAX_IDENTIFIERS}, or they hold different values of one of
     * `uniqueNames`): blocked x1s stay apart, sharing the identifier. For {@link StoredFormMigration}, whose
     * rewriting of values can make two x1s hold one identifier. Answers how many x1s were merged away.
     */
    static int mergeHolders(Handle h, long accountId, Set<String> uniqueNames, List<Identifier> identifiers) {
        lockAccount(h, accountId);
        return new Batch(h, accountId, 0, uniqueNames, 0).mergeHolders(identifiers);
    }

    /** Serialises writers of one account's identity graph; a no-op cost for readers, who never take it. */
    static void lockAccount(Handle h, long accountId) {
        if (h.createQuery("SELECT account_id FROM exchange_account WHERE account_id = :a FOR UPDATE")
                .bind("a", accountId).mapTo(Long.class).findOne().isEmpty()) {
            throw new IllegalArgumentException("no account " + accountId);
        }
    }

    /** The surviving x1 of an x1 number of the account (itself, or the x1 it was merged into). */
    public Optional<Long> survivor(long accountId, long x1) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COALESCE(merged_into, x1) FROM x1_person WHERE x1 = :x AND account_id = :a")
                .bind("x", x1).bind("a", accountId).mapTo(Long.class).findOne());
    }

    /** The identifiers an x1 holds, optionally only those one endpoint contributed, ordered by name and value. */
    public List<StoredIdentifier> identifiers(long x1, Long endpointId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id_name, id_value, endpoint_id FROM x1_identifier WHERE x1 = :x"
                        + (endpointId == null ? "" : " AND endpoint_id = :e") + " ORDER BY id_name, id_value, endpoint_id")
                .bind("x", x1).bind("e", endpointId)
                .map((rs, ctx) -> new StoredIdentifier(rs.getString(1), rs.getString(2), rs.getLong(3)))
                .list());
    }

    /** The x1s holding an identifier as one endpoint contributed it, oldest first. */
    public List<Long> holders(long accountId, long endpointId, Identifier identifier) {
        return jdbi.withHandle(h -> h.createQuery("SELECT x1 FROM x1_identifier WHERE account_id = :a AND id_name = :n"
                        + " AND id_value = :v AND endpoint_id = :e ORDER BY x1")
                .bind("a", accountId).bind("n", identifier.name()).bind("v", identifier.value()).bind("e", endpointId)
                .mapTo(Long.class).list());
    }

    /**
     * Identity-graph translation of a batch of rows (any endpoint's contributions count: the graph is the account's):
     * for each row, the distinct values of identifier `wanted` held by the x1s that hold any of the row's
     * identifiers, sorted. A value counts only as contributed by an endpoint outside `withheldContributors` (those
     * that publish-filter `wanted`): a value that only they contributed is not answered. Two queries for the whole
     * batch, whatever its size.
     */
    public List<List<String>> valuesOfHolders(long accountId, List<List<Identifier>> rows, String wanted,
                                              Set<Long> withheldContributors) {
        Map<Identifier, Integer> distinct = new LinkedHashMap<>();
        rows.forEach(r -> r.forEach(id -> distinct.putIfAbsent(id, distinct.size())));
        String[] names = new String[distinct.size()];
        String[] values = new String[distinct.size()];
        distinct.forEach((id, k) -> {
            names[k] = id.name();
            values[k] = id.value();
        });
        return jdbi.withHandle(h -> {
            Map<Identifier, Set<Long>> holders = new HashMap<>();
            h.createQuery("SELECT DISTINCT i.id_name, i.id_value, i.x1 FROM x1_identifier i JOIN UNNEST(:names, :values)"
                            + " AS t(n, v) ON i.account_id = :a AND i.id_name = t.n AND i.id_value = t.v")
                    .bind("names", names).bind("values", values).bind("a", accountId)
                    .map((rs, ctx) -> Map.entry(new Identifier(rs.getString(1), rs.getString(2)), rs.getLong(3)))
                    .forEach(e -> holders.computeIfAbsent(e.getKey(), k -> new HashSet<>()).add(e.getValue()));
            Map<Long, Set<String>> held = new HashMap<>();
            Long[] x1s = holders.values().stream().flatMap(Set::stream).distinct().toArray(Long[]::new);
            if (x1s.length > 0) {
                h.createQuery("SELECT i.x1, i.id_value FROM x1_identifier i JOIN UNNEST(:x1s) AS t(x) ON i.x1 = t.x"
                                + " WHERE i.id_name = :wanted AND NOT (i.endpoint_id = ANY(:withheld))")
                        .bind("x1s", x1s).bind("wanted", wanted)
                        .bind("withheld", withheldContributors.toArray(new Long[0]))
                        .map((rs, ctx) -> Map.entry(rs.getLong(1), rs.getString(2)))
                        .forEach(e -> held.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(e.getValue()));
            }
            List<List<String>> out = new ArrayList<>(rows.size());
            for (List<Identifier> row : rows) {
                Set<String> found = new TreeSet<>();
                for (Identifier id : row) {
                    for (long x1 : holders.getOrDefault(id, Set.of())) {
                        found.addAll(held.getOrDefault(x1, Set.of()));
                    }
                }
                out.add(List.copyOf(found));
            }
            return out;
        });
    }

    /** Removes an identifier, as one endpoint contributed it, from every x1; answers how many x1s changed. */
    public int delete(long accountId, long endpointId, Identifier identifier) {
        return jdbi.inTransaction(h -> {
            lockAccount(h, accountId);
            return h.createUpdate("DELETE FROM x1_identifier WHERE account_id = :a AND id_name = :n AND id_value = :v"
                            + " AND endpoint_id = :e")
                    .bind("a", accountId).bind("n", identifier.name()).bind("v", identifier.value()).bind("e", endpointId)
                    .execute();
        });
    }

    /** An identifier of an x1 with the endpoint that contributed it. */
    public record StoredIdentifier(String name, String value, long endpointId) {
    }

    /** One contribution: an identifier and the endpoint it came from. */
    private record Row(Identifier identifier, long endpointId) {
    }

    /** An x1 as the batch sees it: every identifier it holds, and the rows it started with. */
    private static final class Person {
        final long x1;
        final boolean created;
        final Map<Identifier, Set<Long>> identifiers = new LinkedHashMap<>();
        final Set<Row> original = new HashSet<>();

        Person(long x1, boolean created) {
            this.x1 = x1;
            this.created = created;
        }

        void add(Row row) {
            identifiers.computeIfAbsent(row.identifier(), k -> new LinkedHashSet<>()).add(row.endpointId());
        }

        Set<Row> rows() {
            Set<Row> rows = new HashSet<>();
            identifiers.forEach((id, endpoints) -> endpoints.forEach(e -> rows.add(new Row(id, e))));
            return rows;
        }
    }

    /** The resolution of one batch, under the account lock. */
    private static final class Batch {
        private final Handle h;
        private final long accountId;
        private final long endpointId;
        private final Set<String> uniqueNames;
        private final long now;
        private final Map<Long, Person> persons = new HashMap<>();
        /** Identifier → the live (not merged) x1s holding it, for every identifier of every person loaded. */
        private final Map<Identifier, TreeSet<Long>> holders = new HashMap<>();
        private final Map<Long, Long> mergedInto = new LinkedHashMap<>();
        private final List<Rejection> rejected = new ArrayList<>();
        private final List<Long> freeIds = new ArrayList<>();
        /** x1s this batch created: one merged away within the batch is written as an alias, never as rows. */
        private final Set<Long> createdHere = new HashSet<>();
        private int created;

        Batch(Handle h, long accountId, long endpointId, Set<String> uniqueNames, long now) {
            this.h = h;
            this.accountId = accountId;
            this.endpointId = endpointId;
            this.uniqueNames = uniqueNames;
            this.now = now;
        }

        Resolution run(List<List<Identifier>> records) {
            load(records);
            long[] x1s = new long[records.size()];
            for (int i = 0; i < records.size(); i++) {
                x1s[i] = place(i, records.get(i));
            }
            // A later record of the batch may have merged an earlier record's x1 away: answer the survivor.
            for (int i = 0; i < x1s.length; i++) {
                if (x1s[i] != 0) {
                    x1s[i] = finalSurvivor(x1s[i]);
                }
            }
            write();
            return new Resolution(x1s, List.copyOf(rejected), created, mergedInto.size());
        }

        int mergeHolders(List<Identifier> identifiers) {
            load(List.of(identifiers));
            for (Identifier id : identifiers) {
                TreeSet<Long> held = holders.get(id);
                if (held == null || held.size() < 2) {
                    continue;
                }
                List<Person> candidates = held.stream().map(persons::get).toList();
                if (union(candidates, Set.of()) <= MAX_IDENTIFIERS && conflictingUnique(candidates, Set.of()) == null) {
                    for (Person loser : candidates.subList(1, candidates.size())) {
                        merge(loser, candidates.get(0));
                    }
                }
            }
            write();
            return mergedInto.size();
        }

        /** Loads every x1 that holds an identifier of the batch, with all its identifiers. */
        private void load(List<List<Identifier>> records) {
            Set<Identifier> wanted = new HashSet<>();
            records.forEach(wanted::addAll);
            if (wanted.isEmpty()) {
                return;
            }
            String[] names = new String[wanted.size()];
            String[] values = new String[wanted.size()];
            int k = 0;
            for (Identifier id : wanted) {
                names[k] = id.name();
                values[k++] = id.value();
            }
            List<Long> found = h.createQuery("SELECT DISTINCT i.x1 FROM x1_identifier i JOIN UNNEST(:names, :values)"
                            + " AS t(n, v) ON i.account_id = :a AND i.id_name = t.n AND i.id_value = t.v")
                    .bind("names", names).bind("values", values).bind("a", accountId)
                    .mapTo(Long.class).list();
            if (found.isEmpty()) {
                return;
            }
            h.createQuery("SELECT i.x1, i.id_name, i.id_value, i.endpoint_id FROM x1_identifier i JOIN UNNEST(:x1s) AS t(x)"
                            + " ON i.x1 = t.x")
                    .bind("x1s", found.toArray(new Long[0]))
                    .map((rs, ctx) -> new Object[]{rs.getLong(1),
                            new Row(new Identifier(rs.getString(2), rs.getString(3)), rs.getLong(4))})
                    .forEach(r -> {
                        long x1 = (Long) r[0];
                        Row row = (Row) r[1];
                        Person p = persons.computeIfAbsent(x1, x -> new Person(x, false));
                        p.add(row);
                        p.original.add(row);
                        holders.computeIfAbsent(row.identifier(), x -> new TreeSet<>()).add(x1);
                    });
        }

        /** Applies the resolution rule to one record; answers its x1, or 0 when it is rejected. */
        private long place(int index, List<Identifier> record) {
            Set<Identifier> s = new LinkedHashSet<>(record);
            if (s.isEmpty()) {
                return reject(index, "the record has no identifier");
            }
            if (s.size() > MAX_IDENTIFIERS) {
                return reject(index, "the record has " + s.size() + " identifiers; an x1Id holds at most " + MAX_IDENTIFIERS);
            }
            String twice = conflictingUnique(List.of(), s);
            if (twice != null) {
                return reject(index, "the record has two values of the unique identifier '" + twice + "'");
            }
            TreeSet<Long> matches = new TreeSet<>();
            for (Identifier id : s) {
                TreeSet<Long> held = holders.get(id);
                if (held != null) {
                    matches.addAll(held);
                }
            }
            if (matches.isEmpty()) {
                Person p = new Person(nextId(), true);
                persons.put(p.x1, p);
                createdHere.add(p.x1);
                created++;
                addAll(p, s);
                return p.x1;
            }
            List<Person> candidates = matches.stream().map(persons::get).toList();
            if (candidates.size() > 1 && union(candidates, s) <= MAX_IDENTIFIERS && conflictingUnique(candidates, s) == null) {
                Person survivor = candidates.get(0);
                for (Person loser : candidates.subList(1, candidates.size())) {
                    merge(loser, survivor);
                }
                addAll(survivor, s);
                return survivor.x1;
            }
            // One match, or a blocked merge: the oldest match with room and no conflict takes the record.
            String reason = null;
            for (Person p : candidates) {
                if (union(List.of(p), s) > MAX_IDENTIFIERS) {
                    reason = "x1Id " + p.x1 + " would exceed " + MAX_IDENTIFIERS + " identifiers";
                    continue;
                }
                String conflict = conflictingUnique(List.of(p), s);
                if (conflict != null) {
                    reason = "its '" + conflict + "' differs from the value its x1Id holds for that unique identifier";
                    continue;
                }
                addAll(p, s);
                return p.x1;
            }
            return reject(index, candidates.size() == 1 ? reason : "no matching x1Id can take it (" + reason + ")");
        }

        private long reject(int index, String reason) {
            rejected.add(new Rejection(index, reason));
            return 0;
        }

        private void addAll(Person p, Set<Identifier> s) {
            for (Identifier id : s) {
                p.add(new Row(id, endpointId));
                holders.computeIfAbsent(id, x -> new TreeSet<>()).add(p.x1);
            }
        }

        private void merge(Person loser, Person survivor) {
            for (Map.Entry<Identifier, Set<Long>> e : loser.identifiers.entrySet()) {
                for (long contributor : e.getValue()) {
                    survivor.add(new Row(e.getKey(), contributor));
                }
                TreeSet<Long> held = holders.get(e.getKey());
                held.remove(loser.x1);
                held.add(survivor.x1);
            }
            persons.remove(loser.x1);
            mergedInto.put(loser.x1, survivor.x1);
        }

        /** Distinct identifiers of the persons and the record together. */
        private static int union(List<Person> people, Set<Identifier> s) {
            if (people.size() == 1) {
                Person p = people.get(0);
                int n = p.identifiers.size();
                for (Identifier id : s) {
                    if (!p.identifiers.containsKey(id)) {
                        n++;
                    }
                }
                return n;
            }
            Set<Identifier> all = new HashSet<>(s);
            people.forEach(p -> all.addAll(p.identifiers.keySet()));
            return all.size();
        }

        /** A name the contributing endpoint declared unique that has two values among the persons and the record. */
        private String conflictingUnique(List<Person> people, Set<Identifier> s) {
            if (uniqueNames.isEmpty()) {
                return null;
            }
            Map<String, String> seen = new HashMap<>();
            for (Identifier id : s) {
                if (uniqueNames.contains(id.name())) {
                    String before = seen.putIfAbsent(id.name(), id.value());
                    if (before != null && !before.equals(id.value())) {
                        return id.name();
                    }
                }
            }
            for (Person p : people) {
                for (Identifier id : p.identifiers.keySet()) {
                    if (uniqueNames.contains(id.name())) {
                        String before = seen.putIfAbsent(id.name(), id.value());
                        if (before != null && !before.equals(id.value())) {
                            return id.name();
                        }
                    }
                }
            }
            return null;
        }

        private long nextId() {
            if (freeIds.isEmpty()) {
                freeIds.addAll(h.createQuery("SELECT nextval('x1_seq') FROM UNNEST(:n) AS t(i)")
                        .bind("n", new Integer[ID_BLOCK]).mapTo(Long.class).list());
                freeIds.sort(null);
            }
            return freeIds.remove(0);
        }

        private long finalSurvivor(long x1) {
            Long next;
            while ((next = mergedInto.get(x1)) != null) {
                x1 = next;
            }
            return x1;
        }

        private void write() {
            PreparedBatch newPersons = h.prepareBatch("INSERT INTO x1_person (x1, account_id, merged_into, created)"
                    + " VALUES (:x, :a, :m, :now)");
            PreparedBatch rows = h.prepareBatch("INSERT INTO x1_identifier (account_id, id_name, id_value, x1, endpoint_id)"
                    + " VALUES (:a, :n, :v, :x, :e)");
            PreparedBatch emptied = h.prepareBatch("DELETE FROM x1_identifier WHERE x1 = :x");
            PreparedBatch aliases = h.prepareBatch("UPDATE x1_person SET merged_into = :s WHERE x1 = :x");
            PreparedBatch aliasesOfAliases = h.prepareBatch("UPDATE x1_person SET merged_into = :s WHERE merged_into = :x");
            for (Map.Entry<Long, Long> m : mergedInto.entrySet()) {
                long loser = m.getKey();
                long survivor = finalSurvivor(loser);
                if (!createdHere.contains(loser)) {
                    emptied.bind("x", loser).add();
                    aliases.bind("s", survivor).bind("x", loser).add();
                    aliasesOfAliases.bind("s", survivor).bind("x", loser).add();
                } else {
                    newPersons.bind("x", loser).bind("a", accountId).bind("m", survivor).bind("now", now).add();
                }
            }
            for (Person p : persons.values()) {
                if (p.created) {
                    newPersons.bind("x", p.x1).bind("a", accountId).bind("m", (Long) null).bind("now", now).add();
                }
                for (Row r : p.rows()) {
                    if (!p.original.contains(r)) {
                        rows.bind("a", accountId).bind("n", r.identifier().name()).bind("v", r.identifier().value())
                                .bind("x", p.x1).bind("e", r.endpointId()).add();
                    }
                }
            }
            execute(emptied);
            execute(aliases);
            execute(aliasesOfAliases);
            execute(newPersons);
            execute(rows);
        }

        private static void execute(PreparedBatch batch) {
            if (batch.size() > 0) {
                batch.execute();
            }
        }
    }
}
