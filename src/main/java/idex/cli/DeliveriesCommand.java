package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.Locale;

/** `idex deliveries …`: the delivery log of events sent to event destinations, through a running server's API. */
@Command(name = "deliveries", mixinStandardHelpOptions = true,
        description = "The event delivery log through the exchange API of a running server (--url, --key).",
        subcommands = {DeliveriesCommand.ListDeliveries.class, DeliveriesCommand.Retry.class},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {
                "0:done",
                "1:the server refused (the message says why)",
                "2:bad input: no key, a bad URL",
                "3:the server could not be reached"})
public final class DeliveriesCommand {

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"List deliveries, newest first (GET /v1/deliveries).",
                    "When more are left, the last line gives the --before that shows the next page."})
    static final class ListDeliveries extends ExchangeCommand {
        @Option(names = "--endpoint", paramLabel = "ID", description = "Only deliveries to this event destination.")
        Long endpoint;
        @Option(names = "--status", paramLabel = "STATUS", description = "PENDING, DELIVERED or FAILED.")
        String status;
        @Option(names = "--limit", paramLabel = "N", description = "At most N deliveries (the server's default when left out).")
        Integer limit;
        @Option(names = "--before", paramLabel = "DELIVERY_ID", description = "Deliveries older than this one: the next page.")
        Long before;
        @Option(names = "--json", description = "Print the server's JSON, attempts included.")
        boolean json;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure {
            StringBuilder query = new StringBuilder();
            if (endpoint != null) {
                query.append("&endpointId=").append(endpoint);
            }
            if (status != null) {
                query.append("&status=").append(JobsCommand.encode(status.trim().toUpperCase(Locale.ROOT)));
            }
            if (limit != null) {
                query.append("&limit=").append(limit);
            }
            if (before != null) {
                query.append("&before=").append(before);
            }
            JsonNode page = api.json("GET", "/v1/deliveries" + (query.isEmpty() ? "" : "?" + query.substring(1)));
            if (json) {
                System.out.println(Json.write(page));
                return ExitCodes.SUCCESS;
            }
            String format = "%-10s %-12s %-11s %-24s %-9s %8s  %-24s %s%n";
            System.out.printf(format, "DELIVERY", "EVENT/JOB", "ENDPOINT", "CODE/WHAT", "STATUS", "ATTEMPTS", "UPDATED",
                    "LAST ANSWER");
            for (JsonNode d : page.path("deliveries")) {
                // An event delivery names its event and code; a job's partner call its job, kind and file.
                boolean event = d.has("eventId");
                String what = event ? d.path("code").asText()
                        : d.path("kind").asText() + (d.has("fileName") ? " " + d.path("fileName").asText() : "");
                System.out.printf(format, d.path("deliveryId").asText(),
                        event ? d.path("eventId").asText() : "job " + d.path("jobId").asText(),
                        d.path("endpointId").asText(), what, d.path("status").asText(),
                        d.path("attemptCount").asText(), time(d.path("updated")), lastAnswer(d.path("attempts")));
            }
            JsonNode next = page.path("nextBefore");
            if (next.isIntegralNumber()) {
                System.out.println("more: --before " + next.asText());
            }
            return ExitCodes.SUCCESS;
        }

        private static String time(JsonNode millis) {
            return millis.isIntegralNumber() ? Instant.ofEpochMilli(millis.asLong()).toString() : "-";
        }

        /** The latest attempt's HTTP status or error; the log lists attempts oldest first. */
        private static String lastAnswer(JsonNode attempts) {
            if (attempts.isEmpty()) {
                return "-";
            }
            JsonNode last = attempts.get(attempts.size() - 1);
            JsonNode error = last.path("error");
            String http = last.path("httpStatus").isIntegralNumber() ? "HTTP " + last.path("httpStatus").asText() : "";
            String why = error.isTextual() ? error.asText() : "";
            return http.isEmpty() && why.isEmpty() ? "-" : http.isEmpty() ? why : why.isEmpty() ? http : http + ": " + why;
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Send a delivery again now (POST /v1/deliveries/{id}/retry), with a fresh retry schedule.")
    static final class Retry extends ExchangeCommand {
        @Parameters(index = "0", paramLabel = "DELIVERY_ID", description = "The delivery, as `idex deliveries list` shows it.")
        long deliveryId;

        @Override
        int run(ExchangeApiClient api) throws CommandFailure {
            JsonNode answer = api.json("POST", "/v1/deliveries/" + deliveryId + "/retry");
            System.out.println("delivery " + answer.path("deliveryId").asText() + " is "
                    + answer.path("status").asText() + " (" + answer.path("queued").asText() + " queued)");
            return ExitCodes.SUCCESS;
        }
    }
}
