package idex.exchange.jobs.pull;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Ids a partner chose stay one path segment under the registered base URL. */
class PartnerPathsTest {

    @Test
    void partnerIdsCannotLeaveTheirPathSegment() {
        assertThat(PartnerPaths.under("https://p.example/api/", "/v1/jobs")).isEqualTo("https://p.example/api/v1/jobs");
        assertThat(PartnerPaths.under("https://p.example", "/v1/jobs")).isEqualTo("https://p.example/v1/jobs");
        assertThat(PartnerPaths.segment("job-1.a_b~")).isEqualTo("job-1.a_b~");
        assertThat(PartnerPaths.segment("../admin")).isEqualTo("..%2Fadmin");
        assertThat(PartnerPaths.segment("..")).isEqualTo("%2E%2E");
        assertThat(PartnerPaths.segment("a b?c#d%")).isEqualTo("a%20b%3Fc%23d%25");
        assertThat(PartnerPaths.segment("é")).isEqualTo("%C3%A9");
    }
}
