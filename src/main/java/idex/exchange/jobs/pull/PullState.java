package idex.exchange.jobs.pull;

/**
 * Where the pull of one job stands, as leased by a node: the partner's job id once it was created (null before),
 * when pulling began, the last wait between polls, the polls made and the last transient problem (null if none).
 */
record PullState(long jobId, long accountId, String partnerJobId, long started, long waitMs, int polls,
                 String lastError) {
}
