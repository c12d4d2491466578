package io.corral.it;

import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.remote.OpenAiRemoteProvider;
import io.corral.remote.Preset;
import io.corral.remote.RemoteConfig;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.spi.InferenceProvider;
import io.corral.testing.InferenceProviderContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.List;

/** The remote provider, against a second, real Corral, keeps the same contract as the engine it reaches. */
class RemoteContractTest extends InferenceProviderContract {

    static CorralServer upstream;
    static OpenAiRemoteProvider remote;

    @BeforeAll
    static void start() {
        upstream = CorralServer.start(ServerConfig.defaults().withPort(0),
                List.of(LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1))));
        remote = new OpenAiRemoteProvider(RemoteConfig.of(Preset.LLAMASTACK, upstream.url() + "/v1"));
        remote.discover();
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    @Override
    protected InferenceProvider provider() {
        return remote;
    }

    @Override
    protected String model() {
        return "stories260K";
    }
}
