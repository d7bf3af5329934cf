package idex.exchange.jobs.model;

/**
 * One segment data file a run wrote: its opaque name, its place in the output, its data rows and its size; and, for
 * a push export, the signature taken while it was written (null otherwise).
 */
public record OutputFile(String name, int seq, long rows, long bytes, Signature signature) {

    public OutputFile(String name, int seq, long rows, long bytes) {
        this(name, seq, rows, bytes, null);
    }

    /**
     * A file's Standard Webhooks signature header, its timestamp taken at `signedAt` (Unix ms) with the secrets
     * `secretsTag` names (see WebhookSignature#secretsTag): usable while fresh and while those secrets are current.
     */
    public record Signature(String header, long signedAt, String secretsTag) {
    }
}
