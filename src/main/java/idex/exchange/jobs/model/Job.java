package idex.exchange.jobs.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.util.List;

/**
 * A job as stored, with the names of its output files (for a pull destination). Once a run has finished,
 * `sourceRecordCount = translatedRecordCount + skippedRecordCount`; `skippedRecords` is the JSON object of the skipped
 * rows by reason. `subStatus` is the step a job that calls a partner is at (null: the job's name is shown);
 * `destinationSegmentId` the push destination's id of the segment it delivers to.
 */
public record Job(long jobId, long accountId, JobCategory category, JobStatus status, long producerEndpointId,
                  Long destinationEndpointId, Long scheduledJobId, Long parentJobId, JobDefinition definition,
                  String errorDetails, Long sourceRecordCount, Long translatedRecordCount,
                  Long destinationRecordCount, Long skippedRecordCount, String skippedRecords, String uploadFile,
                  long created, Long started, Long ended, String subStatus, String destinationSegmentId,
                  List<String> files) {

    /**
     * The job in the seed's shape, field names byte-exact (`jobId` but `producerEndpointID`). `extraFields` adds
     * `started`, `ended` and `scheduleDetails`; `includeSegmentIdString` adds `producerSegmentIDString`.
     */
    public ObjectNode toJson(boolean extraFields, boolean includeSegmentIdString) {
        ObjectNode o = Json.object();
        o.put("jobCategory", category.name());
        o.put("jobId", jobId);
        o.put("scheduledJobId", scheduledJobId);
        o.put("status", status.name());
        o.put("jobName", category.jobName());
        o.put("accountId", accountId);
        o.put("subStatus", subStatus != null ? subStatus : category.jobName());
        o.put("errorDetails", errorDetails);
        if (files.isEmpty()) {
            o.putNull("segmentDataFiles");
            o.putNull("segmentDataFormat");
        } else {
            ArrayNode names = o.putArray("segmentDataFiles");
            files.forEach(names::add);
            o.put("segmentDataFormat", "text/csv");
        }
        o.put("destinationSegmentID", destinationSegmentId);
        o.put("destinationSegmentName", definition.destinationSegmentName());
        o.put("destinationSegmentDescription", definition.destinationSegmentDescription());
        o.put("destinationEndpointID", destinationEndpointId);
        o.put("exportCategory", definition.exportCategory());
        o.put("producerEndpointID", producerEndpointId);
        if (includeSegmentIdString) {
            o.put("producerSegmentIDString", definition.producerSegmentIdString() != null
                    ? definition.producerSegmentIdString()
                    : definition.producerSegmentId() == null ? null : definition.producerSegmentId().toString());
        }
        o.put("producerSegmentID", definition.producerSegmentId());
        ObjectNode am = o.putObject("attributeMappings");
        definition.attributeMappings().forEach(am::put);
        ObjectNode im = o.putObject("identityMappings");
        definition.identityMappings().forEach(im::put);
        o.put("shareAction", definition.shareAction());
        o.put("updateIdentities", definition.updateIdentities());
        if (definition.sourceIdentifiers().isEmpty()) {
            o.putNull("sourceIdentifiers");
        } else {
            definition.sourceIdentifiers().forEach(o.putArray("sourceIdentifiers")::add);
        }
        o.put("destinationIdentifier", definition.destinationIdentifier());
        if (extraFields) {
            o.put("started", started);
            o.put("ended", ended);
            o.set("scheduleDetails", definition.scheduleDetails());
        }
        o.put("translatedRecordCount", translatedRecordCount);
        o.put("sourceRecordCount", sourceRecordCount);
        o.put("destinationRecordCount", destinationRecordCount);
        o.put("skippedRecordCount", skippedRecordCount);
        try {
            o.set("skippedRecords", skippedRecords == null ? null : Json.MAPPER.readTree(skippedRecords));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored skippedRecords of job " + jobId + " is not JSON", e);
        }
        return o;
    }
}
