package idex.exchange.filters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The identifier names that must not travel on one route (source endpoint → destination endpoint), and the
 * means to strip them from what is about to leave the exchange. Names compare exactly, as declared.
 */
public record WithheldIdentifiers(Set<String> names) {

    public static final WithheldIdentifiers NONE = new WithheldIdentifiers(Set.of());

    public WithheldIdentifiers {
        names = Set.copyOf(names);
    }

    public boolean isEmpty() {
        return names.isEmpty();
    }

    /** Whether an identifier of this name may be sent. */
    public boolean allows(String identifierName) {
        return !names.contains(identifierName);
    }

    /** The identifiers (name → value) that may be sent, in their original order. */
    public <V> Map<String, V> strip(Map<String, V> identifiers) {
        if (names.isEmpty()) {
            return identifiers;
        }
        Map<String, V> kept = new LinkedHashMap<>();
        identifiers.forEach((name, value) -> {
            if (allows(name)) {
                kept.put(name, value);
            }
        });
        return kept;
    }

    /** The items that may be sent, in their original order; `nameOf` tells the identifier name of an item. */
    public <T> List<T> strip(List<T> items, Function<? super T, String> nameOf) {
        if (names.isEmpty()) {
            return items;
        }
        return items.stream().filter(item -> allows(nameOf.apply(item))).toList();
    }
}
