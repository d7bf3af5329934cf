package idex.exchange.delivery;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * How the exchange calls a partner, whatever the call (an event delivery, a file to a push destination, a pull
 * producer's API): a client that never follows redirects and checks TLS host names, and requests that connect to the
 * address {@link SafeTargets} approved at that moment (Host and TLS still name the URL's host, so a DNS change
 * between the check and the connection cannot redirect them), signed as Standard Webhooks.
 */
public final class PartnerRequests {

    private PartnerRequests() {
    }

    /** A client for partner calls with up to `connections` per partner address. */
    public static HttpClient client(Vertx vertx, long timeoutMs, int connections, boolean decompress) {
        return vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setKeepAlive(true)
                        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs))
                        .setMaxRedirects(0)
                        .setVerifyHost(true)
                        .setTrustAll(false)
                        .setDecompressionSupported(decompress))
                .with(new PoolOptions().setHttp1MaxSize(connections))
                .build();
    }

    /** A signed request to `target`: `signature` is the `webhook-signature` value of `webhookId` at `seconds`. */
    public static RequestOptions signed(HttpMethod method, SafeTargets.Target target, long timeoutMs, String userAgent,
                                        String webhookId, long seconds, String signature) {
        return new RequestOptions()
                .setMethod(method)
                .setServer(SocketAddress.inetSocketAddress(target.port(), target.address().getHostAddress()))
                .setHost(target.host())
                .setPort(target.port())
                .setSsl(target.tls())
                .setURI(target.requestUri())
                .setFollowRedirects(false)
                .setConnectTimeout(timeoutMs)
                .setIdleTimeout(timeoutMs)
                .putHeader("User-Agent", userAgent)
                .putHeader(WebhookSignature.ID, webhookId)
                .putHeader(WebhookSignature.TIMESTAMP, Long.toString(seconds))
                .putHeader(WebhookSignature.SIGNATURE, signature);
    }

    /** `Retry-After` as seconds or an HTTP date; null when absent or unreadable. */
    public static Long retryAfterMs(String value, long now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.chars().allMatch(Character::isDigit) && v.length() <= 9) {
            return Long.parseLong(v) * 1000;
        }
        try {
            Instant when = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return Math.max(0, when.toEpochMilli() - now);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
