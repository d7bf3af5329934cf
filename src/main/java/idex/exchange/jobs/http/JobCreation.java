package idex.exchange.jobs.http;

import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobDefinition;
import idex.errors.Refusal;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.exchange.jobs.translate.InvalidMappingException;
import idex.exchange.segments.CatalogCheck;
import idex.exchange.jobs.translate.JobMapping;
import idex.uid2.Uid2Scope;


/**
 * Checks a job definition against the account's registrations (spec §4.1): the producer is an audience source and
 * the destination an audience destination of the caller's account, and the mappings fit their registrations
 * ({@link JobMapping#validate}); the segment it names is in the producer's catalog, if it has published one.
 */
public final class JobCreation {

    private final EndpointStore endpoints;
    private final EndpointScope endpointScope;
    private final Uid2Scope scope;
    private final CatalogCheck catalog;

    public JobCreation(EndpointStore endpoints, Uid2Scope scope, CatalogCheck catalog) {
        this.endpoints = endpoints;
        this.endpointScope = new EndpointScope(endpoints);
        this.scope = scope;
        this.catalog = catalog;
    }

    /** The producer and destination of a valid job; 400/403/404 with what to fix otherwise. */
    public record Parties(Endpoint producer, Endpoint destination) {
    }

    public Parties check(Caller caller, JobCategory category, JobDefinition d) {
        Long named = d.producerEndpointId();
        Endpoint producer = endpointScope.endpoint(caller, named == null ? null : named.toString());
        long producerId = producer.endpointId();
        Registration p = producer.registration();
        if (p.audienceRole() != AudienceRole.SOURCE) {
            throw Refusal.invalid("Endpoint " + producerId + " is not an audience source: register it with"
                    + " endpointTypes.audience.source.enabled true to produce jobs.");
        }
        String segment = d.producerSegmentIdString() != null ? d.producerSegmentIdString()
                : d.producerSegmentId() == null ? null : d.producerSegmentId().toString();
        catalog.requireListed(caller.accountId(), producerId, segment, category == JobCategory.SEGMENT_EXPORT);
        Endpoint destination = null;
        if (category == JobCategory.SEGMENT_EXPORT) {
            destination = endpoints.require(caller.accountId(), d.destinationEndpointId());
            if (destination.registration().audienceRole() != AudienceRole.DESTINATION) {
                throw Refusal.invalid("Endpoint " + d.destinationEndpointId() + " is not an audience destination.");
            }
        }
        try {
            // One check of mappings against registrations, shared with the translation that will run them.
            new JobMapping(d.identityMappings(), d.sourceIdentifiers(), d.destinationIdentifier(), d.attributeMappings())
                    .validate(p, destination == null ? null : destination.registration(), scope);
        } catch (InvalidMappingException e) {
            throw Refusal.invalid(e.getMessage());
        }
        return new Parties(producer, destination);
    }
}
