package idex.exchange.jobs;

import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.http.ApiError;

import java.util.Map;
import java.util.Set;

/**
 * Checks a job definition against the account's registrations (spec §4.1): the producer is an audience source and
 * the destination an audience destination of the caller's account, and every mapping names a declared identifier
 * or attribute, or a known translation.
 */
public final class JobCreation {

    /** Translations an identity mapping may name instead of a destination identifier. */
    public static final Set<String> TRANSLATIONS = Set.of("EMAIL_SHA256", "PHONE_SHA256", "SHA256", "SHA1", "MD5", "UID2", "EUID");

    private final EndpointStore endpoints;

    public JobCreation(EndpointStore endpoints) {
        this.endpoints = endpoints;
    }

    /** The producer and destination of a valid job; 400/403/404 with what to fix otherwise. */
    public record Parties(Endpoint producer, Endpoint destination) {
    }

    public Parties check(Caller caller, JobCategory category, JobDefinition d) {
        Long named = d.producerEndpointId();
        long producerId = caller.endpointFor(named == null ? null : named.toString());
        Endpoint producer = endpoints.require(caller.accountId(), producerId);
        Registration p = producer.registration();
        if (p.audienceRole() != AudienceRole.SOURCE) {
            throw ApiError.badRequest("Endpoint " + producerId + " is not an audience source: register it with"
                    + " endpointTypes.audience.source.enabled true to produce jobs.");
        }
        Endpoint destination = null;
        if (category == JobCategory.SEGMENT_EXPORT) {
            destination = endpoints.require(caller.accountId(), d.destinationEndpointId());
            if (destination.registration().audienceRole() != AudienceRole.DESTINATION) {
                throw ApiError.badRequest("Endpoint " + d.destinationEndpointId() + " is not an audience destination.");
            }
        }
        Registration dest = destination == null ? null : destination.registration();
        for (Map.Entry<String, String> m : d.identityMappings().entrySet()) {
            if (p.identifier(m.getKey()).isEmpty()) {
                throw ApiError.badRequest("identityMappings: \"" + m.getKey() + "\" is not an identifier endpoint "
                        + producerId + " declares.");
            }
            boolean known = TRANSLATIONS.contains(m.getValue());
            if (dest != null && !known && dest.identifier(m.getValue()).isEmpty()) {
                throw ApiError.badRequest("identityMappings: \"" + m.getValue() + "\" is neither an identifier endpoint "
                        + d.destinationEndpointId() + " declares nor one of " + String.join(", ", TRANSLATIONS.stream().sorted().toList()) + ".");
            }
            if (dest == null && (known || !Registration.isValidName(m.getValue()))) {
                throw ApiError.badRequest("identityMappings: an identity import stores identifiers by name;"
                        + " \"" + m.getValue() + "\" is not an identifier name.");
            }
        }
        for (String s : d.sourceIdentifiers()) {
            if (p.identifier(s).isEmpty()) {
                throw ApiError.badRequest("sourceIdentifiers: \"" + s + "\" is not an identifier endpoint " + producerId + " declares.");
            }
        }
        if (d.destinationIdentifier() != null && dest.identifier(d.destinationIdentifier()).isEmpty()) {
            throw ApiError.badRequest("destinationIdentifier: \"" + d.destinationIdentifier() + "\" is not an identifier"
                    + " endpoint " + d.destinationEndpointId() + " declares.");
        }
        for (Map.Entry<String, String> m : d.attributeMappings().entrySet()) {
            if (p.attribute(m.getKey()).isEmpty()) {
                throw ApiError.badRequest("attributeMappings: \"" + m.getKey() + "\" is not an attribute endpoint "
                        + producerId + " declares.");
            }
            if (dest != null && dest.attribute(m.getValue()).isEmpty()) {
                throw ApiError.badRequest("attributeMappings: \"" + m.getValue() + "\" is not an attribute endpoint "
                        + d.destinationEndpointId() + " declares.");
            }
        }
        return new Parties(producer, destination);
    }
}
