package idex.exchange.delivery;

import idex.exchange.endpoints.EventUrlPolicy;
import idex.errors.Refusal;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where deliveries may go: a guard against a partner's URL that points into our own network (SSRF). The same rules
 * apply when an endpoint is registered and again right before each send, because DNS can change in between; the
 * send then connects to the very address that was checked, so no later lookup can redirect it.
 *
 * <p>Resolution blocks: call from a worker thread, never from an event loop.
 */
public final class SafeTargets implements EventUrlPolicy {

    /** Name resolution, replaceable so tests can play a hostile DNS server. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /**
     * A checked place to send to. {@code host} is the URL's host without IPv6 brackets (for SNI and certificate
     * checks); {@code address} is the checked IP to connect to; {@code requestUri} is the raw path and query.
     */
    public record Target(String host, int port, boolean tls, String requestUri, InetAddress address) {

        /** The Host header: brackets around an IPv6 literal, the port only when it is not the scheme's default. */
        public String hostHeader() {
            String name = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return port == (tls ? 443 : 80) ? name : name + ":" + port;
        }
    }

    // Rules that on-premise receivers legitimately hit; the others (link-local with cloud metadata services,
    // multicast, unspecified, broadcast, reserved) never name a receiver, so the flag does not open them.
    private static final Set<String> ON_PREMISE_RULES = Set.of("loopback", "private", "unique-local");
    private static final String PRIVATE_ADVICE = "deliveries go only to public addresses (start the server with "
            + "--delivery-allow-private-networks for on-premise receivers)";
    private static final String NEVER_ADVICE = "deliveries go only to public unicast addresses";
    private static final Pattern DECIMAL_OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
    private static final Pattern NUMBER = Pattern.compile("[0-9]+|0[xX][0-9a-fA-F]*");

    private final boolean allowPrivateNetworks;
    private final Resolver resolver;

    public SafeTargets(boolean allowPrivateNetworks) {
        this(allowPrivateNetworks, InetAddress::getAllByName);
    }

    public SafeTargets(boolean allowPrivateNetworks, Resolver resolver) {
        this.allowPrivateNetworks = allowPrivateNetworks;
        this.resolver = resolver;
    }

    /**
     * At registration: refuses (400) a URL that breaks a rule, with a message naming {@code field} and the rule. A
     * host that does not resolve now is accepted (DNS may be down, or the receiver not yet set up): every attempt
     * resolves and checks it again, and the delivery log says why one failed.
     */
    @Override
    public void checkRegistration(String url, String field) {
        try {
            target(url, field, false);
        } catch (UnsafeTarget e) {
            throw Refusal.invalid(e.getMessage());
        }
    }

    /** At send time: the same rules on a fresh resolution, and the checked address to connect to. */
    public Target connectTarget(String url) throws UnsafeTarget {
        return target(url, "the endpoint URL", true);
    }

    private Target target(String url, String subject, boolean mustResolve) throws UnsafeTarget {
        URI uri = parse(url, subject);
        boolean tls = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() == -1 ? (tls ? 443 : 80) : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new UnsafeTarget(subject + " has port " + port + ", outside 1 to 65535");
        }
        String host = uri.getHost();
        InetAddress[] addresses;
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
            addresses = new InetAddress[] {ipv6Literal(host, subject)};
        } else if (endsInNumber(host)) {
            addresses = new InetAddress[] {ipv4Literal(host, subject)};
        } else {
            addresses = resolve(host, subject, mustResolve);
        }
        for (InetAddress address : addresses) {
            String rule = classify(address);
            if (rule != null && !(allowPrivateNetworks && ON_PREMISE_RULES.contains(rule))) {
                throw new UnsafeTarget(subject + " resolves to " + address.getHostAddress() + ", " + describe(rule)
                        + ": " + (ON_PREMISE_RULES.contains(rule) ? PRIVATE_ADVICE : NEVER_ADVICE));
            }
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String requestUri = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        return new Target(host, port, tls, requestUri, addresses.length == 0 ? null : addresses[0]);
    }

    private static URI parse(String url, String subject) throws UnsafeTarget {
        if (url == null || url.isBlank()) {
            throw new UnsafeTarget(subject + " is required: an absolute http or https URL");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            // The reason and index, not e.getMessage(): that one quotes the whole URL.
            throw new UnsafeTarget(subject + " is not a valid URL (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
        String scheme = uri.getScheme();
        if (scheme == null || uri.isOpaque()
                || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw new UnsafeTarget(subject + " must be an absolute http or https URL");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new UnsafeTarget(subject + " has no host");
        }
        if (uri.getRawUserInfo() != null || authority.contains("@")) {
            throw new UnsafeTarget(subject + " must not contain credentials (user info before @)");
        }
        if (uri.getRawFragment() != null) {
            throw new UnsafeTarget(subject + " must not have a fragment (#…): it is never sent to the receiver");
        }
        if (uri.getHost() == null) {
            // java.net.URI leaves the host out when it is no valid DNS name, as with 127.1 or 0x7f.0.0.1.
            String host = authority.startsWith("[") ? authority : authority.replaceFirst(":[0-9]*$", "");
            if (endsInNumber(host)) {
                throw new UnsafeTarget(numericRefusal(subject));
            }
            throw new UnsafeTarget(subject + " has no valid host name (letters, digits, hyphens and dots; "
                    + "international names in their xn-- form)");
        }
        return uri;
    }

    /**
     * Whether a host is to be read as an IPv4 address, as browsers do (the WHATWG URL rule: its last label is a
     * number). Resolvers disagree on such forms: Java reads 0177.0.0.1 as 177.0.0.1, glibc as 127.0.0.1.
     */
    private static boolean endsInNumber(String host) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String last = name.substring(name.lastIndexOf('.') + 1);
        return !last.isEmpty() && NUMBER.matcher(last).matches();
    }

    /** Only the one form every resolver reads alike: four decimal numbers without leading zeros. */
    private static InetAddress ipv4Literal(String host, String subject) throws UnsafeTarget {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            throw new UnsafeTarget(numericRefusal(subject));
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (!DECIMAL_OCTET.matcher(parts[i]).matches() || Integer.parseInt(parts[i]) > 255) {
                throw new UnsafeTarget(numericRefusal(subject));
            }
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        try {
            return InetAddress.getByAddress(bytes); // no lookup: the address is the bytes
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    private static String numericRefusal(String subject) {
        return subject + " has a numeric host in a form resolvers read differently (like 2130706433, 127.1 or "
                + "0177.0.0.1): write an IPv4 address as four decimal numbers, such as 203.0.113.7";
    }

    private static InetAddress ipv6Literal(String literal, String subject) throws UnsafeTarget {
        if (literal.indexOf('%') >= 0) {
            throw new UnsafeTarget(subject + " must not have an IPv6 zone id (%…)");
        }
        try {
            return InetAddress.getByName(literal); // a literal with ':' is parsed, never looked up
        } catch (UnknownHostException e) {
            throw new UnsafeTarget(subject + " has an invalid IPv6 address");
        }
    }

    private InetAddress[] resolve(String host, String subject, boolean mustResolve) throws UnsafeTarget {
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host);
        } catch (UnknownHostException e) {
            addresses = null;
        }
        if ((addresses == null || addresses.length == 0) && !mustResolve) {
            return new InetAddress[0];
        }
        if (addresses == null || addresses.length == 0) {
            throw new UnsafeTarget(subject + " host " + host + " does not resolve (no DNS address)");
        }
        return addresses;
    }

    /**
     * The rule a non-public address falls under: "loopback", "private", "link-local", "unique-local", "multicast",
     * "unspecified", "broadcast" or "reserved"; null for a public unicast address.
     */
    public static String classify(InetAddress address) {
        byte[] b = address.getAddress();
        return b.length == 4 ? classifyV4(b, 0) : classifyV6(b);
    }

    private static String classifyV4(byte[] bytes, int at) {
        int a = bytes[at] & 0xff;
        int b = bytes[at + 1] & 0xff;
        int c = bytes[at + 2] & 0xff;
        int d = bytes[at + 3] & 0xff;
        if (a == 0) {
            return "unspecified"; // 0/8, "this network": some systems connect 0.x to themselves
        }
        if (a == 127) {
            return "loopback";
        }
        if (a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168)
                || (a == 100 && b >= 64 && b <= 127)) { // 100.64/10: carrier-grade NAT, also cluster networks
            return "private";
        }
        if (a == 169 && b == 254) {
            return "link-local"; // holds 169.254.169.254, the cloud metadata service
        }
        if (a >= 224 && a <= 239) {
            return "multicast";
        }
        if (a == 255 && b == 255 && c == 255 && d == 255) {
            return "broadcast";
        }
        if (a >= 240
                || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF protocol assignments, TEST-NET-1
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || (a == 198 && b == 51 && c == 100) // TEST-NET-2
                || (a == 203 && b == 0 && c == 113) // TEST-NET-3
                || (a == 192 && b == 88 && c == 99)) { // retired 6to4 relay anycast
            return "reserved";
        }
        return null;
    }

    private static String classifyV6(byte[] b) {
        if (zero(b, 0, 16)) {
            return "unspecified";
        }
        if (zero(b, 0, 15) && b[15] == 1) {
            return "loopback";
        }
        if (zero(b, 0, 10) && b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
            return classifyV4(b, 12); // IPv4-mapped: the socket connects to the IPv4 address
        }
        if (zero(b, 0, 12)) {
            // IPv4-compatible, deprecated: the embedded address decides, and a public one is still no receiver.
            String embedded = classifyV4(b, 12);
            return embedded != null ? embedded : "reserved";
        }
        int first = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        int second = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        if (first == 0x0064 && second == 0xff9b) {
            // NAT64 64:ff9b::/96 reaches the embedded IPv4 address; 64:ff9b:1::/48 is for local networks.
            return zero(b, 4, 12) ? classifyV4(b, 12) : "private";
        }
        if (first == 0x2002) {
            return classifyV4(b, 2); // 6to4 reaches the embedded IPv4 address
        }
        if (first == 0x2001 && second == 0x0000) {
            // Teredo: the client's IPv4 address is stored inverted in the last four bytes.
            byte[] client = new byte[4];
            for (int i = 0; i < 4; i++) {
                client[i] = (byte) ~b[12 + i];
            }
            return classifyV4(client, 0);
        }
        if ((b[0] & 0xff) == 0xff) {
            return "multicast";
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return "link-local"; // fe80::/10
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
            return "private"; // fec0::/10, the deprecated site-local range
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return "unique-local"; // fc00::/7
        }
        if ((first == 0x2001 && second == 0x0db8) || (b[0] & 0xe0) != 0x20) {
            return "reserved"; // documentation, or outside 2000::/3, where all global unicast lies
        }
        return null;
    }

    private static boolean zero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String describe(String rule) {
        return switch (rule) {
            case "loopback" -> "a loopback address";
            case "private" -> "a private address";
            case "link-local" -> "a link-local address";
            case "unique-local" -> "a unique-local IPv6 address";
            case "multicast" -> "a multicast address";
            case "unspecified" -> "an unspecified (this-network) address";
            case "broadcast" -> "the broadcast address";
            default -> "a reserved address";
        };
    }
}
