package idex.exchange.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import idex.errors.Refusal;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SafeTargetsTest {

    private static final String FLAG_ADVICE = "deliveries go only to public addresses (start the server with "
            + "--delivery-allow-private-networks for on-premise receivers)";

    /** A DNS server the test controls; a host it does not know does not resolve. */
    private final Map<String, InetAddress[]> dns = new HashMap<>();
    private final SafeTargets.Resolver fakeDns = host -> {
        InetAddress[] answer = dns.get(host);
        if (answer == null) {
            throw new UnknownHostException(host);
        }
        return answer;
    };
    private final SafeTargets strict = new SafeTargets(false, fakeDns);
    private final SafeTargets onPremise = new SafeTargets(true, fakeDns);

    // --- classify

    @ParameterizedTest
    @CsvSource({
        "0.0.0.0, unspecified", "0.1.2.3, unspecified",
        "127.0.0.1, loopback", "127.255.255.254, loopback",
        "10.0.0.5, private", "172.16.0.1, private", "172.31.255.255, private", "192.168.1.1, private",
        "100.64.0.1, private", "100.127.255.255, private",
        "169.254.169.254, link-local",
        "224.0.0.1, multicast", "239.255.255.250, multicast",
        "255.255.255.255, broadcast",
        "240.0.0.1, reserved", "255.255.255.254, reserved", "192.0.0.8, reserved", "192.0.2.1, reserved",
        "198.18.0.1, reserved", "198.19.255.255, reserved", "198.51.100.7, reserved", "203.0.113.7, reserved",
        "::, unspecified", "::1, loopback",
        "fe80::1, link-local", "febf:ffff::1, link-local",
        "fc00::1, unique-local", "fd12:3456::1, unique-local",
        "fec0::1, private",
        "ff02::1, multicast", "ff05::1:3, multicast",
        "2001:db8::1, reserved", "100::1, reserved", "4000::1, reserved",
        "::127.0.0.1, loopback", "::10.0.0.1, private", "::8.8.8.8, reserved",
        "64:ff9b::a00:5, private", "64:ff9b::7f00:1, loopback", "64:ff9b::a9fe:a9fe, link-local",
        "64:ff9b:1::1, private",
        "2002:7f00:1::1, loopback", "2002:a00:5::1, private",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe, private", // Teredo, client 10.0.0.1 inverted
    })
    void classifiesNonPublicAddresses(String literal, String rule) throws Exception {
        assertThat(SafeTargets.classify(InetAddress.getByName(literal))).isEqualTo(rule);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "93.184.215.14", "172.15.255.255", "172.32.0.0",
        "100.63.255.255", "100.128.0.0", "169.253.255.255", "192.0.1.1", "192.169.0.1", "198.17.255.255",
        "198.20.0.0", "223.255.255.255", "11.0.0.1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e",
        "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"})
    void classifiesPublicAddressesAsNull(String literal) throws Exception {
        assertThat(SafeTargets.classify(InetAddress.getByName(literal))).isNull();
    }

    @Test
    void unwrapsIpv4MappedAddressesKeptAsIpv6() throws Exception {
        // Java turns a mapped literal into an Inet4Address, but a resolver can hand back a real Inet6Address.
        assertThat(SafeTargets.classify(mapped(10, 0, 0, 5))).isEqualTo("private");
        assertThat(SafeTargets.classify(mapped(127, 0, 0, 1))).isEqualTo("loopback");
        assertThat(SafeTargets.classify(mapped(169, 254, 169, 254))).isEqualTo("link-local");
        assertThat(SafeTargets.classify(mapped(0, 0, 0, 0))).isEqualTo("unspecified");
        assertThat(SafeTargets.classify(mapped(8, 8, 8, 8))).isNull();
    }

    // --- registration: URL shape

    @Test
    void acceptsAPublicHttpsUrl() {
        dns.put("hooks.partner.example", addresses("93.184.215.14"));
        strict.checkRegistration("https://hooks.partner.example/idex?x=1", "url");
        strict.checkRegistration("HTTP://hooks.partner.example:8443", "url");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://hooks.partner.example/x", "file:///etc/passwd", "javascript:alert(1)",
        "gopher://hooks.partner.example/", "ws://hooks.partner.example/", "//hooks.partner.example/x",
        "/relative/path", "hooks.partner.example/x", "http:hooks.partner.example", "mailto:a@partner.example",
        "http://partner example/", " ", ""})
    void refusesAnythingButAbsoluteHttpUrlsEvenWithTheFlag(String url) {
        dns.put("hooks.partner.example", addresses("93.184.215.14"));
        for (SafeTargets targets : List.of(strict, onPremise)) {
            assertThatThrownBy(() -> targets.checkRegistration(url, "url"))
                    .isInstanceOf(Refusal.class)
                    .hasMessageStartingWith("url ")
                    .satisfies(e -> assertThat(((Refusal) e).kind()).isEqualTo(Refusal.Kind.INVALID));
        }
    }

    @Test
    void namesTheSchemeRule() {
        assertThat(refusal(strict, "ftp://hooks.partner.example/x"))
                .isEqualTo("url must be an absolute http or https URL");
        assertThatThrownBy(() -> strict.checkRegistration(null, "url")).hasMessageContaining("http or https");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://user:pass@hooks.partner.example/", "https://token@hooks.partner.example/",
        "https://user:pass@10.0.0.5/", "https://@hooks.partner.example/"})
    void refusesCredentialsEvenWithTheFlag(String url) {
        dns.put("hooks.partner.example", addresses("93.184.215.14"));
        for (SafeTargets targets : List.of(strict, onPremise)) {
            assertThat(refusal(targets, url)).isEqualTo("url must not contain credentials (user info before @)");
        }
    }

    @Test
    void refusesAFragment() {
        dns.put("hooks.partner.example", addresses("93.184.215.14"));
        assertThat(refusal(strict, "https://hooks.partner.example/x#part")).contains("must not have a fragment");
        assertThat(refusal(onPremise, "https://hooks.partner.example/#")).contains("must not have a fragment");
    }

    @Test
    void refusesAMissingOrInvalidHost() {
        assertThat(refusal(strict, "https:///x")).isEqualTo("url has no host");
        assertThat(refusal(strict, "https://exa_mple.com/x")).startsWith("url has no valid host name");
        assertThat(refusal(strict, "https://bücher.example/x")).contains("xn--");
    }

    @Test
    void refusesPortsOutsideTheRange() {
        dns.put("hooks.partner.example", addresses("93.184.215.14"));
        assertThat(refusal(strict, "https://hooks.partner.example:99999/")).contains("port 99999");
        assertThat(refusal(strict, "https://hooks.partner.example:0/")).contains("port 0");
    }

    @Test
    void acceptsAnUnresolvedHostAtRegistrationAndRefusesItAtConnectTime() {
        strict.checkRegistration("https://nowhere.partner.example/x", "url"); // DNS may be down, or not set up yet
        dns.put("empty.partner.example", new InetAddress[0]);
        strict.checkRegistration("https://empty.partner.example/x", "url");
        assertThatThrownBy(() -> strict.connectTarget("https://nowhere.partner.example/x"))
                .isInstanceOf(UnsafeTarget.class)
                .hasMessage("the endpoint URL host nowhere.partner.example does not resolve (no DNS address)");
        assertThatThrownBy(() -> strict.connectTarget("https://empty.partner.example/x"))
                .isInstanceOf(UnsafeTarget.class).hasMessageContaining("does not resolve");
    }

    // --- registration: addresses

    @Test
    void namesThePrivateRuleAndTheFlag() {
        dns.put("hooks.partner.example", addresses("10.0.0.5"));
        assertThat(refusal(strict, "https://hooks.partner.example/x"))
                .isEqualTo("url resolves to 10.0.0.5, a private address: " + FLAG_ADVICE);
    }

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1, a loopback address", "10.1.2.3, a private address", "172.20.0.1, a private address",
        "192.168.0.10, a private address", "100.64.1.1, a private address",
        "fd00::1, a unique-local IPv6 address", "::1, a loopback address", "fec0::1, a private address"})
    void refusesOnPremiseAddressesUnlessTheFlagIsSet(String address, String description) {
        dns.put("hooks.partner.example", addresses(address));
        assertThat(refusal(strict, "https://hooks.partner.example/"))
                .startsWith("url resolves to ")
                .contains(description + ": " + FLAG_ADVICE);
        onPremise.checkRegistration("https://hooks.partner.example/", "url");
    }

    @ParameterizedTest
    @CsvSource({
        "169.254.169.254, a link-local address", "fe80::1, a link-local address",
        "224.0.0.251, a multicast address", "ff02::1, a multicast address",
        "0.0.0.0, an unspecified (this-network) address", "0.10.0.1, an unspecified (this-network) address",
        "::, an unspecified (this-network) address",
        "255.255.255.255, the broadcast address",
        "192.0.0.1, a reserved address", "198.18.5.5, a reserved address", "240.1.2.3, a reserved address",
        "2001:db8::5, a reserved address"})
    void refusesAddressesThatNeverNameAReceiverEvenWithTheFlag(String address, String description) {
        dns.put("hooks.partner.example", addresses(address));
        for (SafeTargets targets : List.of(strict, onPremise)) {
            assertThat(refusal(targets, "https://hooks.partner.example/"))
                    .contains(", " + description + ": deliveries go only to public unicast addresses")
                    .doesNotContain("--delivery-allow-private-networks");
        }
    }

    @Test
    void refusesWhenAnyResolvedAddressIsNotPublic() {
        dns.put("mixed.partner.example", addresses("93.184.215.14", "10.0.0.5"));
        assertThat(refusal(strict, "https://mixed.partner.example/")).contains("10.0.0.5, a private address");
        dns.put("mixed.partner.example", addresses("192.168.1.1", "93.184.215.14"));
        assertThat(refusal(strict, "https://mixed.partner.example/")).contains("192.168.1.1, a private address");
        dns.put("mixed.partner.example", addresses("2606:4700:4700::1111", "::1"));
        assertThat(refusal(strict, "https://mixed.partner.example/")).contains("a loopback address");
    }

    @Test
    void refusesAMappedAddressFromTheResolver() throws Exception {
        dns.put("mapped.partner.example", new InetAddress[] {mapped(10, 0, 0, 5)});
        assertThat(refusal(strict, "https://mapped.partner.example/")).contains("a private address");
    }

    // --- numeric hosts

    @ParameterizedTest
    @ValueSource(strings = {"2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "127.0.1",
        "017700000001", "127.0.0.01", "1.2.3.4.5", "127.0.0.1.", "256.1.1.1", "8.8.8.08", "0x", "example.123",
        "10.0.0.0x5"})
    void refusesAmbiguousNumericHostsWithoutResolvingThem(String host) {
        SafeTargets.Resolver noLookups = name -> {
            throw new AssertionError("looked up " + name);
        };
        for (boolean flag : new boolean[] {false, true}) {
            SafeTargets targets = new SafeTargets(flag, noLookups);
            assertThat(refusal(targets, "http://" + host + "/x"))
                    .as(host)
                    .startsWith("url has a numeric host in a form resolvers read differently");
            assertThatThrownBy(() -> targets.connectTarget("http://" + host + ":8080/x"))
                    .isInstanceOf(UnsafeTarget.class)
                    .hasMessageContaining("numeric host");
        }
    }

    @Test
    void classifiesDottedQuadsByTheirOwnAddressWithoutLookup() throws Exception {
        SafeTargets.Resolver noLookups = name -> {
            throw new AssertionError("looked up " + name);
        };
        SafeTargets targets = new SafeTargets(false, noLookups);
        assertThat(refusal(targets, "http://127.0.0.1:8080/")).contains("127.0.0.1, a loopback address");
        assertThat(refusal(targets, "http://169.254.169.254/latest/meta-data/")).contains("a link-local address");
        assertThat(refusal(targets, "http://0.0.0.0/")).contains("unspecified");
        SafeTargets.Target target = targets.connectTarget("http://93.184.215.14/x");
        assertThat(target.address()).isEqualTo(InetAddress.getByName("93.184.215.14"));
        assertThat(target.host()).isEqualTo("93.184.215.14");
    }

    @Test
    void theRealResolverIsNotAskedAboutNumericForms() {
        // Java itself reads 2130706433 as 127.0.0.1 and 0177.0.0.1 as 177.0.0.1: the form is refused first.
        SafeTargets real = new SafeTargets(false);
        assertThat(refusal(real, "http://2130706433/")).contains("numeric host");
        assertThat(refusal(real, "http://0177.0.0.1/")).contains("numeric host");
        assertThat(refusal(real, "http://127.0.0.1/")).contains("a loopback address");
        assertThat(refusal(real, "http://localhost:8080/")).contains("a loopback address");
    }

    // --- IPv6 literals

    @ParameterizedTest
    @CsvSource({
        "[::1], a loopback address", "[fe80::1], a link-local address", "[fd12::1], a unique-local IPv6 address",
        "[ff02::1], a multicast address", "[::], an unspecified (this-network) address",
        "[2001:db8::1], a reserved address", "[::ffff:10.0.0.5], a private address",
        "[::ffff:127.0.0.1], a loopback address", "[::ffff:7f00:1], a loopback address",
        "[::ffff:169.254.169.254], a link-local address", "[::127.0.0.1], a loopback address",
        "[64:ff9b::10.0.0.5], a private address", "[64:ff9b::7f00:1], a loopback address",
        "[fec0::1], a private address", "[2002:c0a8:101::1], a private address"})
    void refusesNonPublicIpv6Literals(String host, String description) {
        assertThat(refusal(strict, "https://" + host + ":8443/x")).contains(description);
    }

    @Test
    void acceptsPublicIpv6LiteralsAndRefusesZoneIds() throws Exception {
        SafeTargets.Target target = strict.connectTarget("https://[2606:4700:4700::1111]:8443/x?y=1");
        assertThat(target.host()).isEqualTo("2606:4700:4700::1111");
        assertThat(target.address()).isEqualTo(InetAddress.getByName("2606:4700:4700::1111"));
        assertThat(target.hostHeader()).isEqualTo("[2606:4700:4700::1111]:8443");
        assertThat(strict.connectTarget("https://[64:ff9b::8.8.8.8]/").address())
                .isEqualTo(InetAddress.getByName("64:ff9b::808:808"));
        assertThat(refusal(onPremise, "http://[fe80::1%25eth0]/")).contains("zone id");
    }

    @Test
    void theFlagAllowsLoopbackAndPrivateLiterals() throws Exception {
        assertThat(onPremise.connectTarget("http://[::1]:9000/hook").address())
                .isEqualTo(InetAddress.getByName("::1"));
        assertThat(onPremise.connectTarget("http://192.168.1.20/hook").address())
                .isEqualTo(InetAddress.getByName("192.168.1.20"));
        assertThat(onPremise.connectTarget("http://[::ffff:10.0.0.5]/hook").address())
                .isEqualTo(InetAddress.getByName("10.0.0.5"));
    }

    // --- send time

    @Test
    void connectTargetDescribesWhereToConnect() throws Exception {
        dns.put("hooks.partner.example", addresses("93.184.215.14", "93.184.215.15"));

        SafeTargets.Target https = strict.connectTarget("https://hooks.partner.example/idex/events?token=a%20b");
        assertThat(https).isEqualTo(new SafeTargets.Target("hooks.partner.example", 443, true,
                "/idex/events?token=a%20b", InetAddress.getByName("93.184.215.14")));
        assertThat(https.hostHeader()).isEqualTo("hooks.partner.example");

        SafeTargets.Target http = strict.connectTarget("http://hooks.partner.example");
        assertThat(http.port()).isEqualTo(80);
        assertThat(http.tls()).isFalse();
        assertThat(http.requestUri()).isEqualTo("/");
        assertThat(http.hostHeader()).isEqualTo("hooks.partner.example");

        SafeTargets.Target custom = strict.connectTarget("HTTPS://hooks.partner.example:8443?q");
        assertThat(custom.port()).isEqualTo(8443);
        assertThat(custom.tls()).isTrue();
        assertThat(custom.requestUri()).isEqualTo("/?q");
        assertThat(custom.hostHeader()).isEqualTo("hooks.partner.example:8443");
    }

    @Test
    void aDnsChangeAfterRegistrationIsCaughtAtSendTime() {
        // A rebinding server: a public answer for the registration check, a private one for the send.
        Deque<InetAddress[]> answers = new ArrayDeque<>(List.of(addresses("93.184.215.14"), addresses("10.0.0.5")));
        SafeTargets targets = new SafeTargets(false, host -> answers.removeFirst());

        targets.checkRegistration("https://rebind.partner.example/hook", "url");
        UnsafeTarget refused = catchThrowableOfType(UnsafeTarget.class,
                () -> targets.connectTarget("https://rebind.partner.example/hook"));

        assertThat(refused).hasMessage("the endpoint URL resolves to 10.0.0.5, a private address: " + FLAG_ADVICE);
    }

    @Test
    void connectTargetAppliesEveryRule() {
        dns.put("mixed.partner.example", addresses("93.184.215.14", "169.254.169.254"));
        assertThatThrownBy(() -> onPremise.connectTarget("https://mixed.partner.example/"))
                .isInstanceOf(UnsafeTarget.class).hasMessageContaining("a link-local address");
        assertThatThrownBy(() -> strict.connectTarget("ftp://mixed.partner.example/"))
                .isInstanceOf(UnsafeTarget.class).hasMessage("the endpoint URL must be an absolute http or https URL");
        assertThatThrownBy(() -> onPremise.connectTarget("https://u:p@mixed.partner.example/"))
                .isInstanceOf(UnsafeTarget.class).hasMessageContaining("credentials");
        assertThatThrownBy(() -> strict.connectTarget("https://gone.partner.example/"))
                .isInstanceOf(UnsafeTarget.class).hasMessageContaining("does not resolve");
    }

    @Test
    void refusalsNeverQuoteTheUrlsQueryOrCredentials() {
        dns.put("hooks.partner.example", addresses("10.0.0.5"));
        for (String url : List.of("https://hooks.partner.example/x?token=S3CR3T", "https://u:S3CR3T@hooks.partner.example/",
                "https://hooks.partner.example/x?token=S3CR3T#frag", "https://hooks.partner.example/x?token=S3CR3T bad")) {
            UnsafeTarget refused = catchThrowableOfType(UnsafeTarget.class, () -> strict.connectTarget(url));
            assertThat(refused).as(url).isNotNull();
            assertThat(refused.getMessage()).doesNotContain("S3CR3T");
            assertThat(refusal(strict, url)).doesNotContain("S3CR3T");
        }
    }

    private static String refusal(SafeTargets targets, String url) {
        Refusal refusal = catchThrowableOfType(Refusal.class, () -> targets.checkRegistration(url, "url"));
        assertThat(refusal).as("refusal of %s", url).isNotNull();
        assertThat(refusal.kind()).isEqualTo(Refusal.Kind.INVALID);
        return refusal.getMessage();
    }

    private static InetAddress[] addresses(String... literals) {
        InetAddress[] addresses = new InetAddress[literals.length];
        for (int i = 0; i < literals.length; i++) {
            try {
                addresses[i] = InetAddress.getByName(literals[i]); // literals only: no lookup
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
        return addresses;
    }

    private static InetAddress mapped(int a, int b, int c, int d) throws UnknownHostException {
        byte[] bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d};
        InetAddress address = Inet6Address.getByAddress(null, bytes, -1);
        assertThat(address).isInstanceOf(Inet6Address.class);
        return address;
    }
}
