package idex.uid2.salts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

class BucketIdsTest {
    private static final BucketIds REFERENCE_TEST_IDS = new BucketIds("b", "HF6Qz42HBbVHINxhh191dB09BCuTWyBkNtrNicO4ZCw=");

    @Test
    void encodesLikeTheReferenceOperator() {
        assertThat(LongStream.rangeClosed(1_000_000, 1_000_004).mapToObj(REFERENCE_TEST_IDS::encode))
                .containsExactly("bKaoveQoPR", "b1aZVGl7aB", "bv3WM92zaA", "bl5yy6kr58", "be58Mjz13q");
    }

    @Test
    void padsToTheMinimumLength() {
        assertThat(REFERENCE_TEST_IDS.encode(0)).hasSize(1 + 9);
        assertThat(REFERENCE_TEST_IDS.encode(1)).hasSize(1 + 9);
    }

    @Test
    void isSafeToShareBetweenThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = pool.invokeAll(List.of(
                    this::encodesReferenceIdsRepeatedly, this::encodesReferenceIdsRepeatedly,
                    this::encodesReferenceIdsRepeatedly, this::encodesReferenceIdsRepeatedly));
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private boolean encodesReferenceIdsRepeatedly() {
        for (int i = 0; i < 2_000; i++) {
            if (!REFERENCE_TEST_IDS.encode(1_000_002).equals("bv3WM92zaA")) {
                return false;
            }
        }
        return true;
    }

    /** How long a production-sized snapshot's ids take to encode: {@code -Didex.perf=true}. Prints, never asserts. */
    @Test
    @EnabledIfSystemProperty(named = "idex.perf", matches = "true")
    void measureEncodingAProductionSnapshot() {
        int buckets = 1_048_576;
        for (int round = 1; round <= 3; round++) {
            long start = System.nanoTime();
            long totalLength = 0;
            for (int id = 0; id < buckets; id++) {
                totalLength += REFERENCE_TEST_IDS.encode(1_000_000L + id).length();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("BucketIds round %d: %,d ids in %.2f s (%.2f µs/id, %d chars)%n",
                    round, buckets, seconds, seconds * 1e6 / buckets, totalLength);
        }
    }
}
