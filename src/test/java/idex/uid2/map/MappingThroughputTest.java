package idex.uid2.map;

import static org.assertj.core.api.Assertions.assertThat;

import idex.uid2.salts.KeyMaterial;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Rough emails/s of normalise + identity hash + first level hash + bucket index + raw UID, on 1 and 2 threads.
 * Opt-in ({@code -Didex.perf=true}) and print-only: timings on a shared 2-core box are not assertable.
 */
@EnabledIfSystemProperty(named = "idex.perf", matches = "true")
class MappingThroughputTest {
    private static final byte[] FIRST_LEVEL_SALT = ascii("fOGY/aRE44peL23i+cE9MkJrzmEeNZZziNZBfq7qqk8=");
    private static final int BUCKETS = 1_048_576;
    private static final byte[][] BUCKET_SALTS = new byte[64][];
    private static final KeyMaterial[] KEYS = new KeyMaterial[8];
    private static final String[] EMAILS = new String[200_000];

    static {
        for (int i = 0; i < BUCKET_SALTS.length; i++) {
            BUCKET_SALTS[i] = ascii(String.format("vgv1BwiNRCW7F3VcNXHlZh+7oHJ4G4gCshbGcVOL%03d=", i));
        }
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = new KeyMaterial(2_000_000 + i, String.format("key12345key12345key12345key123%02d", i),
                    String.format("salt1234salt1234salt1234salt12%02d", i));
        }
        for (int i = 0; i < EMAILS.length; i++) {
            EMAILS[i] = (i % 3 == 0 ? "First.Last" + i + "+tag@Gmail.com" : "user" + i + "@example" + (i % 97) + ".com");
        }
    }

    @Test
    void measure() throws Exception {
        for (boolean v4 : new boolean[] {false, true}) {
            for (int threads : new int[] {1, 2, 1, 2}) {
                int perThread = 2_000_000;
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                List<Callable<Long>> work = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    work.add(() -> mapMany(perThread, v4));
                }
                long start = System.nanoTime();
                long sink = 0;
                for (Future<Long> f : pool.invokeAll(work)) {
                    sink += f.get();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                pool.shutdown();
                assertThat(sink).isNotZero();
                System.out.printf("raw UID %s, %d thread(s): %,.0f emails/s%n", v4 ? "v4" : "v2", threads,
                        threads * perThread / seconds);
            }
        }
    }

    private static long mapMany(int count, boolean v4) {
        IdentityHasher hasher = IdentityHasher.forThread();
        long sink = 0;
        for (int i = 0; i < count; i++) {
            String normalized = IdentityNormalizer.normalizeEmail(EMAILS[i % EMAILS.length]);
            byte[] flh = hasher.firstLevelHash(hasher.identityHash(normalized), FIRST_LEVEL_SALT);
            int bucket = IdentityHasher.bucketIndex(flh, BUCKETS);
            byte[] uid = v4
                    ? hasher.rawUidV4(flh, KEYS[bucket % KEYS.length], IdentityType.EMAIL, 0, 2)
                    : hasher.rawUidV2(flh, BUCKET_SALTS[bucket % BUCKET_SALTS.length]);
            sink += uid[5];
        }
        return sink | 1;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
