package idex.exchange.identity;

import java.util.Locale;

/**
 * Normalisation of email and phone values: before hashing (spec §4.3), so that the same email or phone typed two
 * ways hashes to the same value at the destination, and on the way into the identity store and in its lookups
 * ({@link ValueForm}), so that it is one person whatever the case.
 */
public final class ValueNormalizer {

    private static final int MIN_PHONE_DIGITS = 10;
    private static final int MAX_PHONE_DIGITS = 15;

    private ValueNormalizer() {
    }

    /** Email for EMAIL_SHA256: trimmed and lower-cased (every letter, locale-independent); nothing is rejected. */
    public static String email(String value) {
        return value.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * Phone in E.164: '+' then 10–15 ASCII digits once spaces, '-', '.', '(' and ')' are removed; null for anything
     * else (no '+', letters, a second '+', too few or too many digits). A number without its country code cannot be
     * completed safely, so it is refused rather than guessed.
     */
    public static String e164(String value) {
        String v = value.trim();
        if (v.isEmpty() || v.charAt(0) != '+') {
            return null;
        }
        char[] out = null; // only allocated when a separator has to be removed
        int digits = 0;
        for (int i = 1; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c >= '0' && c <= '9') {
                if (++digits > MAX_PHONE_DIGITS) {
                    return null;
                }
                if (out != null) {
                    out[digits] = c;
                }
            } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
                if (out == null) {
                    out = new char[1 + MAX_PHONE_DIGITS];
                    out[0] = '+';
                    v.getChars(1, i, out, 1);
                }
            } else {
                return null;
            }
        }
        if (digits < MIN_PHONE_DIGITS) {
            return null;
        }
        return out == null ? v : new String(out, 0, 1 + digits);
    }
}
