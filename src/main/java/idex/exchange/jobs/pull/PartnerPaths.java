package idex.exchange.jobs.pull;

import java.nio.charset.StandardCharsets;

/**
 * URLs of a partner's API under the base URL of its registration. Ids the partner chose (its job and data file ids)
 * are percent-encoded as one path segment each, so that an id such as `../admin` stays an id.
 */
final class PartnerPaths {

    private PartnerPaths() {
    }

    static String under(String baseUrl, String path) {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        return base + path;
    }

    static String segment(String id) {
        StringBuilder out = new StringBuilder();
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '~' || (c == '.' && !id.equals(".") && !id.equals(".."))) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
