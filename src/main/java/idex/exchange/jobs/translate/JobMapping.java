package idex.exchange.jobs.translate;

import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.uid2.Uid2Scope;
import idex.uid2.map.IdentityType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A job's mapping fields as the job was created with them: {@code identityMappings} (ordered: it orders the output
 * columns) or {@code sourceIdentifiers} + {@code destinationIdentifier}, and {@code attributeMappings}. Never null
 * inside: absent maps and lists are empty, an absent destination identifier is null.
 */
public record JobMapping(Map<String, String> identityMappings, List<String> sourceIdentifiers,
                         String destinationIdentifier, Map<String, String> attributeMappings) {

    /** An IDENTITY_IMPORT without mappings: rows only feed the identity store. */
    public static final JobMapping NONE = new JobMapping(null, null, null, null);

    /** At most this many declared names are quoted in a message; an endpoint may declare 1000. */
    private static final int NAMES_IN_MESSAGE = 20;

    public JobMapping {
        identityMappings = identityMappings == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(identityMappings));
        sourceIdentifiers = sourceIdentifiers == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(sourceIdentifiers));
        attributeMappings = attributeMappings == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(attributeMappings));
    }

    /** A mapping that renames or transforms identifiers column by column. */
    public static JobMapping identities(Map<String, String> identityMappings, Map<String, String> attributeMappings) {
        return new JobMapping(identityMappings, null, null, attributeMappings);
    }

    /** An identity-graph mapping: the destination identifier's values of the person found by the source identifiers. */
    public static JobMapping graph(List<String> sourceIdentifiers, String destinationIdentifier,
                                   Map<String, String> attributeMappings) {
        return new JobMapping(null, sourceIdentifiers, destinationIdentifier, attributeMappings);
    }

    /** Whether this is identity-graph translation ({@code sourceIdentifiers} + {@code destinationIdentifier}). */
    public boolean isGraph() {
        return !sourceIdentifiers.isEmpty() || destinationIdentifier != null;
    }

    /**
     * Checks the mapping against the endpoints, as job creation must before it stores the job.
     *
     * @param destination null for an IDENTITY_IMPORT: then only the producer's side is checked (nothing is sent)
     * @param scope       what this server issues: UID2 or EUID
     * @throws InvalidMappingException with every problem found
     */
    public void validate(Registration producer, Registration destination, Uid2Scope scope) {
        List<String> problems = problems(producer, destination, scope);
        if (!problems.isEmpty()) {
            throw new InvalidMappingException(problems);
        }
    }

    /** The problems {@link #validate} reports, as sentences; empty when the mapping is usable. */
    List<String> problems(Registration producer, Registration destination, Uid2Scope scope) {
        List<String> problems = new ArrayList<>();
        boolean export = destination != null;
        boolean graph = isGraph();
        if (!identityMappings.isEmpty() && graph) {
            problems.add("Give identityMappings or sourceIdentifiers with destinationIdentifier, not both.");
        } else if (export && identityMappings.isEmpty() && !graph) {
            problems.add("Give identityMappings ({\"sourceIdentifier\":\"destinationIdentifier\"} or one of "
                    + IdentifierTransform.keywordsFor(scope) + ") or sourceIdentifiers with destinationIdentifier:"
                    + " a segment export must say which identifiers it sends.");
        }
        identityProblems(producer, destination, scope, problems);
        graphProblems(producer, destination, problems);
        attributeProblems(producer, destination, problems);
        if (export && problems.isEmpty()) {
            duplicateOutputProblems(problems);
        }
        return problems;
    }

    private void identityProblems(Registration producer, Registration destination, Uid2Scope scope, List<String> problems) {
        identityMappings.forEach((source, target) -> {
            String arrow = "identityMappings \"" + source + "\" → \"" + target + "\"";
            DeclaredIdentifier declared = source == null ? null : producer.identifier(source).orElse(null);
            if (declared == null) {
                problems.add("identityMappings: \"" + source + "\" is not an identifier the producer endpoint declares"
                        + declaredIdentifiers(producer) + ".");
            }
            if (target == null || target.isBlank()) {
                problems.add("identityMappings: \"" + source + "\" needs a destination identifier name or one of "
                        + IdentifierTransform.keywordsFor(scope) + ".");
                return;
            }
            if (destination == null) {
                return; // an import sends nothing: its targets are never used
            }
            IdentifierTransform transform = IdentifierTransform.of(target);
            if (transform == IdentifierTransform.COPY && destination.identifier(target).isEmpty()) {
                problems.add(arrow + ": \"" + target + "\" is neither an identifier the destination endpoint declares"
                        + declaredIdentifiers(destination) + " nor one of " + IdentifierTransform.keywordsFor(scope) + ".");
            } else if (transform.isRawUid() && transform.scope() != scope) {
                problems.add(arrow + ": this server issues " + scope.name() + ", not " + target + "; use \""
                        + scope.name() + "\".");
            } else if (transform.isRawUid() && declared != null && rawUidInput(declared) == null) {
                problems.add(arrow + ": a raw " + target + " is made from an email or a phone; declare \"" + source
                        + "\" with type \"email\" or \"phone\" in the producer's registration.");
            }
        });
    }

    private void graphProblems(Registration producer, Registration destination, List<String> problems) {
        if (!isGraph()) {
            return;
        }
        if (sourceIdentifiers.isEmpty()) {
            problems.add("sourceIdentifiers must name at least one identifier of the producer endpoint"
                    + declaredIdentifiers(producer) + ".");
        }
        for (String source : sourceIdentifiers) {
            if (source == null || producer.identifier(source).isEmpty()) {
                problems.add("sourceIdentifiers: \"" + source + "\" is not an identifier the producer endpoint declares"
                        + declaredIdentifiers(producer) + ".");
            }
        }
        if (destination == null) {
            return;
        }
        if (destinationIdentifier == null || destinationIdentifier.isBlank()) {
            problems.add("destinationIdentifier must name the identifier of the destination endpoint to send"
                    + declaredIdentifiers(destination) + ".");
        } else if (destination.identifier(destinationIdentifier).isEmpty()) {
            problems.add("destinationIdentifier: \"" + destinationIdentifier + "\" is not an identifier the destination"
                    + " endpoint declares" + declaredIdentifiers(destination) + ".");
        }
    }

    private void attributeProblems(Registration producer, Registration destination, List<String> problems) {
        attributeMappings.forEach((source, target) -> {
            if (source == null || producer.attribute(source).isEmpty()) {
                problems.add("attributeMappings: \"" + source + "\" is not an attribute the producer endpoint declares"
                        + declaredAttributes(producer) + ".");
            }
            if (destination != null && (target == null || destination.attribute(target).isEmpty())) {
                problems.add("attributeMappings \"" + source + "\" → \"" + target + "\": \"" + target + "\" is not an"
                        + " attribute the destination endpoint declares" + declaredAttributes(destination) + ".");
            }
        });
    }

    /** Each output column must come from one source, or the destination could not tell which value it got. */
    private void duplicateOutputProblems(List<String> problems) {
        Set<String> seen = new HashSet<>();
        Set<String> twice = new LinkedHashSet<>();
        for (String column : outputColumns()) {
            if (!seen.add(column)) {
                twice.add(column);
            }
        }
        for (String column : twice) {
            problems.add("The mappings produce column \"" + column + "\" more than once: map one source to it.");
        }
    }

    /** Every output column the mappings name, before identity filters. */
    private List<String> outputColumns() {
        List<String> columns = new ArrayList<>();
        if (isGraph()) {
            columns.add(destinationIdentifier);
        }
        identityMappings.forEach((source, target) -> {
            columns.add(target);
            String bucket = IdentifierTransform.of(target).bucketColumn();
            if (bucket != null) {
                columns.add(bucket);
            }
        });
        columns.addAll(attributeMappings.values());
        return columns;
    }

    /**
     * Whether a raw UID is made from an email or a phone: the declared type when it is "email" or "phone" (any
     * case); otherwise the identifier's name when it contains exactly one of "email" and "phone" (any case), so that
     * registrations written before types mattered ("type":"string", name "workEmail") still work; otherwise null.
     */
    static IdentityType rawUidInput(DeclaredIdentifier identifier) {
        String type = identifier.type() == null ? "" : identifier.type().trim().toLowerCase(Locale.ROOT);
        if (type.equals("email")) {
            return IdentityType.EMAIL;
        }
        if (type.equals("phone")) {
            return IdentityType.PHONE;
        }
        String name = identifier.name().toLowerCase(Locale.ROOT);
        boolean email = name.contains("email");
        boolean phone = name.contains("phone");
        return email == phone ? null : email ? IdentityType.EMAIL : IdentityType.PHONE;
    }

    private static String declaredIdentifiers(Registration r) {
        return declared(r.identifiers(), DeclaredIdentifier::name, "identifiers");
    }

    private static String declaredAttributes(Registration r) {
        return declared(r.attributes(), a -> a.name(), "attributes");
    }

    private static <T> String declared(List<T> items, Function<T, String> name, String what) {
        if (items.isEmpty()) {
            return " (it declares no " + what + ")";
        }
        StringBuilder s = new StringBuilder(" (it declares ");
        for (int i = 0; i < items.size() && i < NAMES_IN_MESSAGE; i++) {
            s.append(i == 0 ? "" : ", ").append(name.apply(items.get(i)));
        }
        if (items.size() > NAMES_IN_MESSAGE) {
            s.append(", … ").append(items.size() - NAMES_IN_MESSAGE).append(" more");
        }
        return s.append(')').toString();
    }
}
