package io.corral.it;

import io.corral.engines.EngineRegistry;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import io.corral.routing.Router;
import io.corral.routing.RoutingMode;
import io.corral.routing.Ticker;
import io.corral.server.CorralServer;
import io.corral.server.ServerConfig;
import io.corral.spi.InferenceProvider;
import io.corral.testing.InferenceProviderContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A model merged over the in-process engine and a remote host (a second Corral): the router keeps the contract too. */
class RouterContractTest extends InferenceProviderContract {

    static CorralServer upstream;
    static EngineRegistry registry;

    @BeforeAll
    static void start() {
        upstream = CorralServer.start(ServerConfig.defaults().withPort(0),
                List.of(LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1))));
        registry = new EngineRegistry(List.of(LlamaCppEngine.open(LlamaCppConfig.of(OpenAiRemoteProviderTest.stories()).withThreads(1))),
                EngineRegistry.hostsFrom(Map.of("LLAMASTACK_HOSTS", upstream.url())),
                new Router.Policy(RoutingMode.REMOTE_FIRST, 3, Duration.ofMillis(1)), Ticker.system(), Clock.systemUTC());
        registry.discover();
    }

    @AfterAll
    static void stop() {
        registry.close();
        upstream.close();
    }

    @Test
    void theModelHasBothRunners() {
        assertThat(((Router) provider()).runners()).extracting(r -> r.provider().local()).containsExactly(true, true);
        assertThat(((Router) provider()).runners()).extracting(r -> r.provider().type())
                .containsExactlyInAnyOrder("inline::llamacpp", "remote::llamastack");
    }

    @Override
    protected InferenceProvider provider() {
        return registry.models().get("stories260K");
    }

    @Override
    protected String model() {
        return "stories260K";
    }
}
