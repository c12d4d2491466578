package io.corral.llamacpp;

import io.corral.api.CompletionRequest;
import io.corral.api.TokenStream;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.corral.llamacpp.TestModels.greedy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Closing an engine under running work fails that work cleanly; native memory is never used after free. */
class EngineCloseTest {

    @Test
    void closingDuringAGeneration_endsItWithAnError_notACrash() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()));
        LlamaSession session = engine.openSession("Be kind.", greedy(8));
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            TokenStream stream = engine.stream(CompletionRequest.of("Once upon a time", greedy(0)));
            assertThat(stream.hasNext()).isTrue();
            var hold = TestModels.holdDecoding(engine); // the stream is mid-generation when the engine closes
            assertThat(((Generation) stream).hasEnded()).isFalse();
            java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
            Future<Integer> reader = ex.submit(() -> {
                int n = 0;
                while (stream.hasNext()) {
                    stream.next();
                    reading.countDown();
                    n++;
                }
                return n;
            });
            reading.await();
            Future<?> closing = ex.submit(engine::close);
            hold.countDown();
            closing.get();
            assertThatThrownBy(reader::get).hasCauseInstanceOf(io.corral.api.UnavailableException.class)
                    .rootCause().hasMessageContaining("closed");
        }
        assertThatThrownBy(() -> session.send("hello")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> engine.complete(CompletionRequest.of("x", greedy(1))))
                .isInstanceOf(io.corral.api.UnavailableException.class);
    }
}
