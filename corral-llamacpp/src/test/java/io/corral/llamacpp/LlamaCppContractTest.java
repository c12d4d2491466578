package io.corral.llamacpp;

import io.corral.spi.InferenceProvider;
import io.corral.testing.InferenceProviderContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The in-process engine keeps the inference contract. */
class LlamaCppContractTest extends InferenceProviderContract {

    static LlamaCppEngine engine;

    @BeforeAll
    static void open() {
        engine = LlamaCppEngine.open(LlamaCppConfig.of(TestModels.stories()).withThreads(1));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Override
    protected InferenceProvider provider() {
        return engine;
    }

    @Override
    protected String model() {
        return "stories260K";
    }
}
