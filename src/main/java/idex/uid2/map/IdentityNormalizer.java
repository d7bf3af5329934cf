package idex.uid2.map;

import java.util.Base64;

/**
 * Input normalisation and hash decoding exactly as the reference operator does it (spec §5), because every byte of
 * the normalised form feeds the identity hash: any deviation maps the same person to a different raw UID.
 */
public final class IdentityNormalizer {
    private static final String GMAIL = "gmail.com";
    private static final int HASH_BYTES = 32;

    private IdentityNormalizer() {
    }

    /**
     * Normalised email, or null when invalid. Only ASCII A–Z are lower-cased; every space before the first '@' is
     * dropped, trailing spaces after it are dropped (leading and inner domain spaces are kept, as in the reference);
     * a second '@', an empty local part or an empty domain is invalid; for exactly {@code gmail.com} the local part
     * loses its dots and everything from the first '+'.
     */
    public static String normalizeEmail(String raw) {
        if (raw == null) {
            return null;
        }
        int at = raw.indexOf('@');
        if (at < 0) {
            return null;
        }
        int domainEnd = raw.length();
        while (domainEnd > at + 1 && raw.charAt(domainEnd - 1) == ' ') {
            domainEnd--;
        }
        if (domainEnd == at + 1 || raw.indexOf('@', at + 1) >= 0) {
            return null;
        }
        String domain = lowerAsciiLetters(raw, at + 1, domainEnd);
        boolean gmail = domain.equals(GMAIL);

        StringBuilder out = new StringBuilder(at + 1 + domain.length());
        for (int i = 0; i < at; i++) {
            char c = raw.charAt(i);
            if (c == ' ' || (gmail && c == '.')) {
                continue;
            }
            if (gmail && c == '+') {
                break;
            }
            out.append(lowerAsciiLetter(c));
        }
        if (out.length() == 0) {
            return null;
        }
        return out.append('@').append(domain).toString();
    }

    /** E.164 as the reference accepts it: '+' then 10–15 ASCII digits, nothing else. */
    public static boolean isNormalizedPhone(String phone) {
        if (phone == null || phone.length() < 11 || phone.length() > 16 || phone.charAt(0) != '+') {
            return false;
        }
        for (int i = 1; i < phone.length(); i++) {
            char c = phone.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** A client-supplied SHA-256: 44-char standard base64 or 64-char hex (either case); null unless exactly 32 bytes. */
    public static byte[] decodeHash(String hash) {
        if (hash == null) {
            return null;
        }
        if (hash.length() == 44) {
            try {
                byte[] bytes = Base64.getDecoder().decode(hash);
                return bytes.length == HASH_BYTES ? bytes : null;
            } catch (IllegalArgumentException notBase64) {
                return null;
            }
        }
        if (hash.length() == 64) {
            byte[] bytes = new byte[HASH_BYTES];
            for (int i = 0; i < HASH_BYTES; i++) {
                int hi = hexValue(hash.charAt(2 * i));
                int lo = hexValue(hash.charAt(2 * i + 1));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes[i] = (byte) (hi << 4 | lo);
            }
            return bytes;
        }
        return null;
    }

    private static String lowerAsciiLetters(String s, int from, int to) {
        char[] chars = new char[to - from];
        for (int i = from; i < to; i++) {
            chars[i - from] = lowerAsciiLetter(s.charAt(i));
        }
        return new String(chars);
    }

    // Not Character.toLowerCase: the reference leaves every non-ASCII letter untouched.
    private static char lowerAsciiLetter(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
