package idex.exchange.jobs.translate;

import idex.exchange.endpoints.DeclaredAttribute;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.exchange.filters.WithheldIdentifiers;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.ValueForm;
import idex.exchange.identity.ValueNormalizer;
import idex.uid2.Uid2Scope;
import idex.uid2.map.IdentityType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the rows of one upload become the destination's rows (spec §4.3), compiled once per job from the header, the
 * endpoints' registrations, the mappings and the identity filters, so that each row costs only array lookups and
 * the transforms themselves. Immutable and thread-safe; the per-thread work happens in a {@link RowTranslator}.
 *
 * <p>Identity filters are applied here, once: a mapping whose source identifier or output column is withheld is
 * dropped (with its bucket column), so a withheld identifier never reaches a written row in any form — not even
 * hashed. Graph translation still looks people up by withheld source identifiers: those values only query the
 * store and never leave the exchange.
 */
public final class RowTranslation {

    /** Rows sent to {@link GraphLookup} at a time: big enough to amortise a query, small enough to stay in memory. */
    public static final int GRAPH_BATCH_ROWS = 1000;
    private static final int NAMES_IN_NOTE = 20;

    private final int columnCount;
    private final int[] identifierColumns;
    private final String[] identifierNames;
    private final ValueForm[] identifierForms;
    /** Identifier columns declared "phone" when rows feed the identity store: a row with a bad phone is skipped. */
    private final int[] checkedPhoneColumns;
    private final String[] checkedPhoneNames;
    private final MappedIdentifier[] mappedIdentifiers;
    private final MappedAttribute[] mappedAttributes;
    private final int[] graphSourceColumns;
    private final String[] graphSourceNames;
    private final ValueForm[] graphSourceForms;
    private final String graphDestination;
    private final List<String> outputHeader;
    private final List<String> notes;
    private final Uid2Scope scope;
    private final boolean everyIdentifierWithheld;

    private RowTranslation(Builder b) {
        this.columnCount = b.columnCount;
        this.identifierColumns = b.identifierColumns.stream().mapToInt(Integer::intValue).toArray();
        this.identifierNames = b.identifierNames.toArray(String[]::new);
        this.identifierForms = b.identifierForms.toArray(ValueForm[]::new);
        this.checkedPhoneColumns = b.checkedPhoneColumns.stream().mapToInt(Integer::intValue).toArray();
        this.checkedPhoneNames = b.checkedPhoneNames.toArray(String[]::new);
        this.mappedIdentifiers = b.mappedIdentifiers.toArray(MappedIdentifier[]::new);
        this.mappedAttributes = b.mappedAttributes.toArray(MappedAttribute[]::new);
        this.graphSourceColumns = b.graphSourceColumns.stream().mapToInt(Integer::intValue).toArray();
        this.graphSourceNames = b.graphSourceNames.toArray(String[]::new);
        this.graphSourceForms = b.graphSourceForms.toArray(ValueForm[]::new);
        this.graphDestination = b.graphDestination;
        this.outputHeader = List.copyOf(b.outputHeader);
        this.notes = List.copyOf(b.notes);
        this.scope = b.scope;
        this.everyIdentifierWithheld = b.everyIdentifierWithheld;
    }

    /**
     * Compiles the translation of an upload.
     *
     * @param header      the upload's first row, as column names (trimmed here; a leading byte-order mark is dropped)
     * @param destination null for an IDENTITY_IMPORT: rows are then only checked, and nothing is written
     * @param withheld    identifier names the identity filters withhold on this route ({@link WithheldIdentifiers#NONE}
     *                    for an import)
     * @param scope       what this server issues: UID2 or EUID
     * @throws InvalidMappingException for a mapping that does not fit the endpoints (job creation should have refused
     *                                 it, but registrations change) or a header that nothing could be translated from
     */
    public static RowTranslation compile(JobMapping mapping, List<String> header, Registration producer,
                                         Registration destination, WithheldIdentifiers withheld, Uid2Scope scope) {
        Builder b = new Builder(header.size(), scope);
        List<String> problems = new ArrayList<>(mapping.problems(producer, destination, scope));
        Map<String, Integer> columns = b.readHeader(header, producer, problems);
        if (destination == null) {
            b.checkPhonesForTheStore();
        }
        if (problems.isEmpty() && destination != null) {
            if (mapping.isGraph()) {
                b.mapGraph(mapping, columns, producer, withheld, problems);
            } else {
                b.mapIdentifiers(mapping, columns, producer, withheld, problems);
            }
            b.mapAttributes(mapping, columns);
        }
        if (!problems.isEmpty()) {
            throw new InvalidMappingException(problems);
        }
        b.finish();
        return new RowTranslation(b);
    }

    /** The destination's header: identifier columns (each raw UID followed by its bucket column), then attributes. */
    public List<String> outputHeader() {
        return outputHeader;
    }

    /** Whether any row can be written: false for an import, and when identity filters withhold every identifier. */
    public boolean sendsRows() {
        return !outputHeader.isEmpty();
    }

    public boolean isGraph() {
        return graphDestination != null;
    }

    /** Sentences for the job's errorDetails about the header: ignored columns, missing columns, withheld columns. */
    public List<String> notes() {
        return notes;
    }

    /** Whether the translation maps emails or phones to raw UIDs (and so needs a {@link UidSnapshot}). */
    public boolean needsUids() {
        for (MappedIdentifier m : mappedIdentifiers) {
            if (m.transform().isRawUid()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A translator for one thread of one job run.
     *
     * @param uids  the salts and opt-outs to map with; required when {@link #needsUids()}, else ignored
     * @param graph the identity store; required for graph translation that sends rows, else ignored
     * @param out   where translated rows go
     */
    public RowTranslator translator(UidSnapshot uids, GraphLookup graph, OutputRows out) {
        if (isGraph() && sendsRows()) {
            if (graph == null) {
                throw new IllegalArgumentException("graph translation needs a GraphLookup");
            }
            return new GraphRowTranslator(this, graph, out, GRAPH_BATCH_ROWS);
        }
        if (needsUids()) {
            if (uids == null) {
                throw new IllegalArgumentException("mapping to " + scope + " needs a UidSnapshot");
            }
            if (uids.scope() != scope) {
                throw new IllegalArgumentException("the translation was compiled for " + scope + ", the snapshot is "
                        + uids.scope());
            }
        }
        return new MappedRowTranslator(this, uids, out);
    }

    /**
     * The row's identifiers for the identity store (IDENTITY_IMPORT, or SEGMENT_EXPORT with updateIdentities): every
     * producer identifier of the header with a value, under its declared name, in the form the store keeps it
     * ({@link ValueForm}: trimmed, emails lower-cased, phones in E.164), in header order. Identity
     * filters do not apply: they act on what leaves the exchange, never on what is stored. Call it for rows that
     * {@link RowTranslator#translate} did not report as bad.
     */
    public List<Identifier> identifiers(String[] fields) {
        List<Identifier> found = new ArrayList<>(identifierColumns.length);
        for (int k = 0; k < identifierColumns.length; k++) {
            int column = identifierColumns[k];
            if (column < fields.length && fields[column] != null) {
                String value = fields[column].trim();
                if (!value.isEmpty()) {
                    String stored = identifierForms[k].normalize(value);
                    if (stored != null) { // rowProblem refused a row with a bad phone: none is left here
                        found.add(new Identifier(identifierNames[k], stored));
                    }
                }
            }
        }
        return found;
    }

    /** Why a row cannot be used at all (wrong column count, no identifier value), or null. */
    String rowProblem(String[] fields) {
        if (fields.length != columnCount) {
            return "wrong column count: " + fields.length + " fields, the header has " + columnCount;
        }
        for (int k = 0; k < checkedPhoneColumns.length; k++) {
            String value = fields[checkedPhoneColumns[k]];
            if (hasValue(value) && ValueNormalizer.e164(value) == null) {
                return ValueForm.notAPhone(checkedPhoneNames[k], value.trim());
            }
        }
        for (int column : identifierColumns) {
            if (hasValue(fields[column])) {
                return null;
            }
        }
        return "no identifier value";
    }

    boolean hasColumnCount(String[] fields) {
        return fields.length == columnCount;
    }

    /** Whether identity filters withhold every identifier an export would send, so that no row is sent. */
    boolean everyIdentifierWithheld() {
        return everyIdentifierWithheld;
    }

    static boolean hasValue(String field) {
        if (field == null) {
            return false;
        }
        for (int i = 0; i < field.length(); i++) {
            if (field.charAt(i) > ' ') { // the same characters String.trim() removes
                return true;
            }
        }
        return false;
    }

    MappedIdentifier[] mappedIdentifiers() {
        return mappedIdentifiers;
    }

    MappedAttribute[] mappedAttributes() {
        return mappedAttributes;
    }

    int[] graphSourceColumns() {
        return graphSourceColumns;
    }

    String[] graphSourceNames() {
        return graphSourceNames;
    }

    ValueForm[] graphSourceForms() {
        return graphSourceForms;
    }

    String graphDestination() {
        return graphDestination;
    }

    int outputWidth() {
        return outputHeader.size();
    }

    /** Compilation state; each step adds what it found and reports what must refuse the upload. */
    private static final class Builder {
        final int columnCount;
        final Uid2Scope scope;
        final List<Integer> identifierColumns = new ArrayList<>();
        final List<String> identifierNames = new ArrayList<>();
        final List<ValueForm> identifierForms = new ArrayList<>();
        final List<Integer> checkedPhoneColumns = new ArrayList<>();
        final List<String> checkedPhoneNames = new ArrayList<>();
        final List<ValueForm> graphSourceForms = new ArrayList<>();
        final List<MappedIdentifier> mappedIdentifiers = new ArrayList<>();
        final List<MappedAttribute> mappedAttributes = new ArrayList<>();
        final List<Integer> graphSourceColumns = new ArrayList<>();
        final List<String> graphSourceNames = new ArrayList<>();
        String graphDestination;
        final List<String> outputHeader = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        final Set<String> missing = new LinkedHashSet<>();
        final List<String> withheldMappings = new ArrayList<>();
        boolean everyIdentifierWithheld;

        Builder(int columnCount, Uid2Scope scope) {
            this.columnCount = columnCount;
            this.scope = scope;
        }

        /** Positions of the producer's identifiers and attributes in the header; notes the other columns. */
        Map<String, Integer> readHeader(List<String> header, Registration producer, List<String> problems) {
            Set<String> identifiers = new HashSet<>();
            for (DeclaredIdentifier i : producer.identifiers()) {
                identifiers.add(i.name());
            }
            Set<String> attributes = new HashSet<>();
            for (DeclaredAttribute a : producer.attributes()) {
                attributes.add(a.name());
            }
            Map<String, Integer> columns = new HashMap<>();
            Set<String> twice = new LinkedHashSet<>();
            List<String> ignored = new ArrayList<>();
            for (int i = 0; i < header.size(); i++) {
                String name = columnName(header.get(i), i);
                if (identifiers.contains(name) || attributes.contains(name)) {
                    if (columns.putIfAbsent(name, i) != null) {
                        twice.add(name);
                    } else if (identifiers.contains(name)) {
                        identifierColumns.add(i);
                        identifierNames.add(name);
                        identifierForms.add(ValueForm.of(producer, name));
                    }
                } else {
                    ignored.add(name.isEmpty() ? "(column " + (i + 1) + " has no name)" : name);
                }
            }
            for (String name : twice) {
                problems.add("Column \"" + name + "\" appears more than once in the header: name each column once.");
            }
            if (identifierColumns.isEmpty()) {
                problems.add("The header names none of the producer endpoint's identifiers"
                        + listed(producer.identifiers().stream().map(DeclaredIdentifier::name).toList())
                        + ": the first line of the file must name its columns, at least one of them an identifier.");
            }
            if (!ignored.isEmpty()) {
                notes.add("Ignored columns, neither an identifier nor an attribute of the producer endpoint: "
                        + joined(ignored) + ".");
            }
            return columns;
        }

        void mapIdentifiers(JobMapping mapping, Map<String, Integer> columns, Registration producer,
                            WithheldIdentifiers withheld, List<String> problems) {
            boolean anyPresent = false;
            for (Map.Entry<String, String> e : mapping.identityMappings().entrySet()) {
                String source = e.getKey();
                String target = e.getValue();
                Integer column = columns.get(source);
                if (column == null) {
                    missing.add(source);
                    continue;
                }
                anyPresent = true;
                IdentifierTransform transform = IdentifierTransform.of(target);
                String bucket = transform.bucketColumn();
                if (!withheld.allows(source) || !withheld.allows(target) || bucket != null && !withheld.allows(bucket)) {
                    withheldMappings.add(source + " → " + target);
                    continue;
                }
                IdentityType uidInput = transform.isRawUid()
                        ? JobMapping.rawUidInput(producer.identifier(source).orElseThrow()) : null;
                int output = outputHeader.size();
                outputHeader.add(target);
                int bucketOutput = -1;
                if (bucket != null) {
                    bucketOutput = outputHeader.size();
                    outputHeader.add(bucket);
                }
                mappedIdentifiers.add(new MappedIdentifier(source, column, transform, uidInput, target, output, bucketOutput));
            }
            if (!anyPresent) {
                problems.add("None of the identifier columns identityMappings reads"
                        + listed(List.copyOf(mapping.identityMappings().keySet()))
                        + " is in the header: no row could be translated.");
            }
        }

        void mapGraph(JobMapping mapping, Map<String, Integer> columns, Registration producer,
                      WithheldIdentifiers withheld, List<String> problems) {
            for (String source : new LinkedHashSet<>(mapping.sourceIdentifiers())) {
                Integer column = columns.get(source);
                if (column == null) {
                    missing.add(source);
                } else {
                    graphSourceColumns.add(column);
                    graphSourceNames.add(source);
                    graphSourceForms.add(ValueForm.of(producer, source));
                }
            }
            if (graphSourceColumns.isEmpty()) {
                problems.add("None of the sourceIdentifiers" + listed(mapping.sourceIdentifiers())
                        + " is a column of the header: no row could be translated.");
            }
            graphDestination = mapping.destinationIdentifier();
            if (withheld.allows(graphDestination)) {
                outputHeader.add(graphDestination);
            } else {
                withheldMappings.add(String.join(", ", graphSourceNames) + " → " + graphDestination);
            }
        }

        void mapAttributes(JobMapping mapping, Map<String, Integer> columns) {
            mapping.attributeMappings().forEach((source, target) -> {
                Integer column = columns.get(source);
                if (column == null) {
                    missing.add(source);
                } else {
                    mappedAttributes.add(new MappedAttribute(source, column, target, outputHeader.size()));
                    outputHeader.add(target);
                }
            });
        }

        /** Rows that feed the identity store: a phone identifier must be one, or the row is skipped with the reason. */
        void checkPhonesForTheStore() {
            for (int k = 0; k < identifierColumns.size(); k++) {
                if (identifierForms.get(k) == ValueForm.PHONE) {
                    checkedPhoneColumns.add(identifierColumns.get(k));
                    checkedPhoneNames.add(identifierNames.get(k));
                }
            }
        }

        void finish() {
            if (!missing.isEmpty()) {
                notes.add("Columns the mappings read that are not in the file, so nothing was sent for them: "
                        + joined(List.copyOf(missing)) + ".");
            }
            if (!withheldMappings.isEmpty()) {
                notes.add("Identity filters withhold " + joined(withheldMappings) + ": those columns are not sent.");
            }
            boolean identifierSent = !mappedIdentifiers.isEmpty()
                    || graphDestination != null && outputHeader.contains(graphDestination);
            if (!withheldMappings.isEmpty() && !identifierSent) {
                // Attributes alone identify no one: without an identifier there is nothing to send.
                notes.add("Identity filters withhold every identifier this job sends: no row is sent to the destination.");
                everyIdentifierWithheld = true;
                mappedIdentifiers.clear();
                mappedAttributes.clear();
                outputHeader.clear();
            }
        }

        private static String columnName(String raw, int index) {
            String name = raw == null ? "" : raw;
            if (index == 0 && !name.isEmpty() && name.charAt(0) == '\uFEFF') {
                name = name.substring(1); // a byte-order mark some spreadsheet exports put first
            }
            return name.trim();
        }

        /** " (a, b)" for a sentence that quotes names; " (none declared)" when there are none. */
        private static String listed(List<String> names) {
            return names.isEmpty() ? " (none declared)" : " (" + joined(names) + ")";
        }

        /** "a, b, c", at most {@value #NAMES_IN_NOTE} names: a header may have thousands of columns. */
        private static String joined(List<String> names) {
            int shown = Math.min(names.size(), NAMES_IN_NOTE);
            String list = String.join(", ", names.subList(0, shown));
            return list + (names.size() > shown ? ", … " + (names.size() - shown) + " more" : "");
        }
    }

    @Override
    public String toString() {
        return "RowTranslation" + outputHeader + (isGraph() ? " by graph from " + Arrays.toString(graphSourceNames) : "");
    }
}
