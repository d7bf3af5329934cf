package idex.exchange.jobs.pull;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hand-over of a streamed answer from the event loop to a reading worker: bounded, failing loudly. */
class StreamedBodyTest {

    static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        vertx.close().await();
    }

    @Test
    void aFullQueuePausesTheAnswerUntilTheReaderCatchesUp() throws Exception {
        StreamedBody body = new StreamedBody(vertx.getOrCreateContext(), 5000, () -> { });
        int mib = 1024 * 1024;
        for (int i = 0; i < 5; i++) {
            body.write(Buffer.buffer(new byte[mib]));
        }
        assertThat(body.writeQueueFull()).isTrue();
        CountDownLatch drained = new CountDownLatch(1);
        body.drainHandler(v -> drained.countDown());
        assertThat(body.readNBytes(mib)).hasSize(mib);
        assertThat(drained.getCount()).as("4 MiB still wait: no drain yet").isEqualTo(1);
        assertThat(body.readNBytes(2 * mib + 1)).hasSize(2 * mib + 1);
        assertThat(drained.await(5, TimeUnit.SECONDS)).as("below half of the bound: drained").isTrue();
        assertThat(body.writeQueueFull()).isFalse();
        body.end();
        assertThat(body.readAllBytes()).hasSize(2 * mib - 1);
        assertThat(body.read()).isEqualTo(-1);
    }

    @Test
    void aCutOffAnswerFailsTheReaderAfterWhatArrived() throws Exception {
        StreamedBody body = new StreamedBody(vertx.getOrCreateContext(), 5000, () -> { });
        body.write(Buffer.buffer("email\nann@"));
        body.fail("connection reset");
        assertThat(body.readNBytes(10)).hasSize(10);
        assertThatThrownBy(body::read).isInstanceOf(IOException.class).hasMessage("connection reset");
    }

    @Test
    void aSilentAnswerFailsTheReaderAfterTheIdleTime() {
        StreamedBody body = new StreamedBody(vertx.getOrCreateContext(), 100, () -> { });
        assertThatThrownBy(body::read).isInstanceOf(IOException.class).hasMessage("no data for 100 ms");
    }

    @Test
    void closingEarlyStopsTheAnswer() throws Exception {
        AtomicInteger cancelled = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        StreamedBody body = new StreamedBody(vertx.getOrCreateContext(), 5000, () -> {
            cancelled.incrementAndGet();
            done.countDown();
        });
        body.write(Buffer.buffer("email\n"));
        body.close();
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(cancelled.get()).isEqualTo(1);
        StreamedBody ended = new StreamedBody(vertx.getOrCreateContext(), 5000, cancelled::incrementAndGet);
        ended.end();
        ended.close();
        assertThat(cancelled.get()).as("an answer read to its end is not cancelled").isEqualTo(1);
    }
}
