package idex.exchange.jobs.translate;

import idex.uid2.Uid2Scope;

/**
 * What an {@code identityMappings} value asks for (spec §4.3): a destination identifier's name (copy the value), or
 * one of the keywords. A keyword wins over a destination identifier of the same name, so that a mapping means the
 * same thing whatever the destination happens to declare.
 */
public enum IdentifierTransform {
    /** The value is a destination identifier's name: copy the trimmed value under it. */
    COPY(null),
    /** Trimmed, lower-cased, then SHA-256. */
    EMAIL_SHA256("EMAIL_SHA256"),
    /** E.164, then SHA-256. */
    PHONE_SHA256("PHONE_SHA256"),
    SHA256("SHA256"),
    SHA1("SHA1"),
    MD5("MD5"),
    /** The raw UID2 of an email or phone, with its bucket id. */
    UID2(Uid2Scope.UID2.name()),
    /** The raw EUID of an email or phone, with its bucket id. */
    EUID(Uid2Scope.EUID.name());

    private final String keyword;

    IdentifierTransform(String keyword) {
        this.keyword = keyword;
    }

    /** The transform a mapping value names; COPY for anything that is not a keyword (exact case). */
    public static IdentifierTransform of(String mappingValue) {
        for (IdentifierTransform t : values()) {
            if (t.keyword != null && t.keyword.equals(mappingValue)) {
                return t;
            }
        }
        return COPY;
    }

    public boolean isRawUid() {
        return this == UID2 || this == EUID;
    }

    /** The scope a raw-UID transform needs the server to serve. */
    public Uid2Scope scope() {
        return this == UID2 ? Uid2Scope.UID2 : this == EUID ? Uid2Scope.EUID : null;
    }

    /** The column that carries the bucket id next to a raw UID ({@code UID2_BUCKET}); null for other transforms. */
    public String bucketColumn() {
        return isRawUid() ? keyword + "_BUCKET" : null;
    }

    /** The keywords a mapping may use on a server of this scope, for messages. */
    public static String keywordsFor(Uid2Scope scope) {
        return "EMAIL_SHA256, PHONE_SHA256, SHA256, SHA1, MD5, " + scope.name();
    }
}
