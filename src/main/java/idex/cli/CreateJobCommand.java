package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * `idex jobs create segment-export|identity-import`: a job from flags, from a JSON file in the API's own shape, or
 * from a file with flags that change some of its fields; prints the job the server created (or the scheduled job, when
 * the definition carries scheduleDetails that say later or repeatedly).
 */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create a job (POST /v1/jobs/segmentExport or /v1/jobs/identityImport) and print it.",
        subcommands = {CreateJobCommand.SegmentExport.class, CreateJobCommand.IdentityImport.class})
final class CreateJobCommand {

    /** What both categories take. */
    abstract static class CreateJob extends ExchangeCommand {
        @Option(names = "--file", paramLabel = "FILE",
                description = "The job definition as JSON (the body the API takes); flags given too replace its fields.")
        Path file;
        @Option(names = "--producer", paramLabel = "ID",
                description = "producerEndpointID (an endpoint key's own endpoint when left out).")
        Long producer;
        @Option(names = "--segment", paramLabel = "SEGMENT_ID",
                description = "The producer's segment (producerSegmentID): one of its catalog's ids, if it has a catalog.")
        String segment;
        @Option(names = "--map", paramLabel = "SOURCE=DESTINATION",
                description = "An identity mapping (identityMappings), repeatable: e.g. --map email=EMAIL_SHA256.")
        List<String> identityMappings = new ArrayList<>();
        @Option(names = "--id-only", description = "Print only the created job's id (a scheduled job's id, if scheduled).")
        boolean idOnly;

        abstract String path();

        /** The category's own fields. */
        abstract void addOwn(ObjectNode job) throws CommandFailure;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure, IOException {
            ObjectNode job = file == null ? Json.object() : read(file);
            if (producer != null) {
                job.put("producerEndpointID", producer);
            }
            if (segment != null) {
                // The string form: the server keeps the number too when the id is numeric.
                job.put("producerSegmentIDString", segment);
                job.remove("producerSegmentID");
            }
            mappings(job, "identityMappings", identityMappings, "--map");
            addOwn(job);
            JsonNode created = api.json("POST", path(), job);
            if (idOnly) {
                // A job created now carries scheduledJobId null; a scheduled job's answer names itself there.
                JsonNode scheduled = created.path("scheduledJobId");
                JsonNode id = scheduled.isIntegralNumber() ? scheduled : created.path("jobId");
                System.out.println(id.asText());
            } else {
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(created));
            }
            return ExitCodes.SUCCESS;
        }

        private static ObjectNode read(Path file) throws CommandFailure {
            JsonNode tree;
            try {
                tree = Json.MAPPER.readTree(Files.readAllBytes(file));
            } catch (IOException e) {
                throw new CommandFailure(ExitCodes.BAD_INPUT, "Could not read " + file + " as JSON: "
                        + e.getMessage());
            }
            if (!(tree instanceof ObjectNode o)) {
                throw new CommandFailure(ExitCodes.BAD_INPUT, file + " must hold one JSON object: the job definition,"
                        + " e.g. {\"producerEndpointID\":1,\"identityMappings\":{\"email\":\"email\"}}.");
            }
            return o;
        }

        /** SOURCE=DESTINATION pairs added to (or replacing those of) the object `field`. */
        static void mappings(ObjectNode job, String field, List<String> pairs, String flag)
                throws CommandFailure {
            if (pairs.isEmpty()) {
                return;
            }
            ObjectNode map = job.get(field) instanceof ObjectNode o ? o : job.putObject(field);
            for (String pair : pairs) {
                int eq = pair.indexOf('=');
                if (eq <= 0 || eq == pair.length() - 1) {
                    throw new CommandFailure(ExitCodes.BAD_INPUT, flag + " takes SOURCE=DESTINATION, not '" + pair
                            + "'.");
                }
                map.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
    }

    @Command(name = "segment-export", mixinStandardHelpOptions = true,
            description = {"Create a segment export: the producer's audience, translated for the destination.",
                    "Example: idex jobs create segment-export --producer 1 --segment vip --destination 2"
                            + " --segment-name VIP --share-action ADD --map email=EMAIL_SHA256"})
    static final class SegmentExport extends CreateJob {
        @Option(names = "--destination", paramLabel = "ID", description = "destinationEndpointID (required, here or in --file).")
        Long destination;
        @Option(names = "--segment-name", paramLabel = "NAME", description = "destinationSegmentName.")
        String segmentName;
        @Option(names = "--segment-description", paramLabel = "TEXT", description = "destinationSegmentDescription.")
        String segmentDescription;
        @Option(names = "--export-category", paramLabel = "CATEGORY", description = "exportCategory.")
        String exportCategory;
        @Option(names = "--share-action", paramLabel = "ACTION", description = "shareAction: ADD, REPLACE or REMOVE.")
        String shareAction;
        @Option(names = "--source-identifier", paramLabel = "NAME",
                description = "sourceIdentifiers (graph translation), repeatable.")
        List<String> sourceIdentifiers = new ArrayList<>();
        @Option(names = "--destination-identifier", paramLabel = "NAME",
                description = "destinationIdentifier (graph translation).")
        String destinationIdentifier;
        @Option(names = "--attribute", paramLabel = "SOURCE=DESTINATION",
                description = "An attribute mapping (attributeMappings), repeatable.")
        List<String> attributeMappings = new ArrayList<>();
        @Option(names = "--update-identities",
                description = "updateIdentities: true (the rows also feed the identity store).")
        boolean updateIdentities;

        @Override
        String path() {
            return "/v1/jobs/segmentExport";
        }

        @Override
        void addOwn(ObjectNode job) throws CommandFailure {
            if (destination != null) {
                job.put("destinationEndpointID", destination);
            }
            if (!job.hasNonNull("destinationEndpointID")) {
                throw new CommandFailure(ExitCodes.BAD_INPUT, "A segment export needs its destination: give"
                        + " --destination ID (or destinationEndpointID in --file).");
            }
            put(job, "destinationSegmentName", segmentName);
            put(job, "destinationSegmentDescription", segmentDescription);
            put(job, "exportCategory", exportCategory);
            put(job, "shareAction", shareAction == null ? null : shareAction.toUpperCase(Locale.ROOT));
            put(job, "destinationIdentifier", destinationIdentifier);
            if (!sourceIdentifiers.isEmpty()) {
                sourceIdentifiers.forEach(job.putArray("sourceIdentifiers")::add);
            }
            mappings(job, "attributeMappings", attributeMappings, "--attribute");
            if (updateIdentities) {
                job.put("updateIdentities", true);
            }
        }

        /** A flag given replaces the file's field; one left out keeps it. */
        private static void put(ObjectNode job, String field, String value) {
            if (value != null) {
                job.put(field, value);
            }
        }
    }

    @Command(name = "identity-import", mixinStandardHelpOptions = true,
            description = {"Create an identity import: the producer's file resolved into the identity store.",
                    "Example: idex jobs create identity-import --producer 1 --map email=email --map crmId=crmId"})
    static final class IdentityImport extends CreateJob {
        @Override
        String path() {
            return "/v1/jobs/identityImport";
        }

        @Override
        void addOwn(ObjectNode job) {
            // An identity import has no destination: its fields are the common ones.
        }
    }
}
