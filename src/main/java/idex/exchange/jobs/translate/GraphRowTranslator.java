package idex.exchange.jobs.translate;

import idex.exchange.identity.Identifier;
import idex.exchange.identity.ValueForm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Identity-graph translation: rows are looked up in batches ({@link GraphLookup}); each value of the destination
 * identifier the person holds becomes one output row, with the row's attributes. A row whose person is unknown, or
 * holds no value of the destination identifier, is not sent.
 */
final class GraphRowTranslator extends RowTranslator {

    private final GraphLookup graph;
    private final int batchRows;
    private final int[] sourceColumns;
    private final String[] sourceNames;
    private final ValueForm[] sourceForms;
    private final MappedAttribute[] attributes;
    private final String destinationIdentifier;
    private final List<List<Identifier>> pendingSources;
    private final List<String[]> pendingAttributes;

    GraphRowTranslator(RowTranslation translation, GraphLookup graph, OutputRows out, int batchRows) {
        super(translation, out);
        this.graph = graph;
        this.batchRows = batchRows;
        this.sourceColumns = translation.graphSourceColumns();
        this.sourceNames = translation.graphSourceNames();
        this.sourceForms = translation.graphSourceForms();
        this.attributes = translation.mappedAttributes();
        this.destinationIdentifier = translation.graphDestination();
        this.pendingSources = new ArrayList<>(batchRows);
        this.pendingAttributes = new ArrayList<>(batchRows);
    }

    @Override
    String translateUsable(String[] fields) throws IOException {
        List<Identifier> sources = new ArrayList<>(sourceColumns.length);
        for (int k = 0; k < sourceColumns.length; k++) {
            String value = fields[sourceColumns[k]].trim();
            if (!value.isEmpty()) {
                // Looked up in the form the store keeps it, so that an email in any case finds its person.
                String stored = sourceForms[k].normalize(value);
                if (stored == null) {
                    return ValueForm.notAPhone(sourceNames[k], value);
                }
                sources.add(new Identifier(sourceNames[k], stored));
            }
        }
        if (sources.isEmpty()) {
            skip(SkipReason.NO_MAPPED_IDENTIFIER_VALUE); // other identifiers, but none the graph is searched by
            return null;
        }
        // The caller may reuse its array: keep the values (immutable Strings), not the array.
        String[] attributeValues = new String[attributes.length];
        for (int k = 0; k < attributes.length; k++) {
            attributeValues[k] = fields[attributes[k].sourceColumn()];
        }
        pendingSources.add(sources);
        pendingAttributes.add(attributeValues);
        if (pendingSources.size() >= batchRows) {
            lookUpPending();
        }
        return null;
    }

    @Override
    public void finish() throws IOException {
        lookUpPending();
    }

    private void lookUpPending() throws IOException {
        if (pendingSources.isEmpty()) {
            return;
        }
        List<List<String>> found = graph.destinationValues(List.copyOf(pendingSources), destinationIdentifier);
        if (found == null || found.size() != pendingSources.size()) {
            throw new IllegalStateException("GraphLookup answered " + (found == null ? "null" : found.size() + " rows")
                    + " for " + pendingSources.size() + " rows");
        }
        Set<String> sent = new HashSet<>();
        for (int i = 0; i < found.size(); i++) {
            List<String> values = found.get(i);
            int written = 0;
            if (values != null && !values.isEmpty()) {
                copyAttributes(pendingAttributes.get(i));
                sent.clear();
                for (String value : values) {
                    // one row per distinct value, whatever the lookup returns
                    if (value != null && !value.isEmpty() && (values.size() == 1 || sent.add(value))) {
                        row[0] = value;
                        out.write(row);
                        written++;
                    }
                }
            }
            if (written > 0) {
                produced(written);
            } else {
                skip(SkipReason.NOT_IN_IDENTITY_GRAPH);
            }
        }
        pendingSources.clear();
        pendingAttributes.clear();
    }
}
