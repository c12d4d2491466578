package io.corral.config;

import io.corral.engines.EngineRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    static String stories() {
        return Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf").toString();
    }

    static final String GOOD = """
            version: 2
            image_name: corral
            server:
              port: ${env.PORT:=9321}
              api_keys: ["${env.KEY:=}"]
              routing: remote-first
            providers:
              inference:
                - provider_id: local
                  provider_type: inline::llamacpp
                  config:
                    model: ${env.MODEL}
                    threads: 1
                - provider_id: ollama
                  provider_type: remote::ollama
                  config:
                    base_url: http://127.0.0.1:1/v1
                    connect_timeout: 0.5
            models:
              - model_id: story
                provider_id: local
                provider_model_id: stories260K
                routing: local-only
            """;

    static Path write(Path dir, String yaml) throws Exception {
        return Files.writeString(dir.resolve("run.yaml"), yaml);
    }

    @Test
    void readsAllSections_withEnvironmentSubstitution(@TempDir Path dir) throws Exception {
        DistributionConfig c = ConfigLoader.load(write(dir, GOOD), Map.of("MODEL", "/m.gguf", "KEY", "k1")::get);
        assertThat(c.server().port()).isEqualTo(9321);
        assertThat(c.server().apiKeys()).containsExactly("k1");
        assertThat(c.server().routing()).isEqualTo("remote-first");
        assertThat(c.server().idleTimeout()).isEqualTo(300);
        assertThat(c.inference()).extracting(DistributionConfig.Provider::type)
                .containsExactly("inline::llamacpp", "remote::ollama");
        assertThat(c.inference().getFirst().config()).containsEntry("model", "/m.gguf").containsEntry("threads", "1");
        assertThat(c.models()).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo("story");
            assertThat(m.routing()).isEqualTo("local-only");
        });
        DistributionConfig noKey = ConfigLoader.load(write(dir, GOOD), Map.of("MODEL", "/m.gguf")::get);
        assertThat(noKey.server().apiKeys()).isEmpty();
    }

    @Test
    void opensTheDistribution_andSwappingAProviderIsAConfigChange(@TempDir Path dir) throws Exception {
        Path file = write(dir, GOOD);
        try (EngineRegistry r = Distribution.open(file, ConfigLoader.load(file, Map.of("MODEL", stories())::get), Map.of())) {
            assertThat(r.models()).containsKeys("stories260K", "story", "local/stories260K");
            assertThat(r.engines()).hasSize(2);
            assertThat(r.engine("ollama").status().name()).isEqualTo("DOWN");
            assertThat(r.models().get("story").chat(io.corral.api.ChatRequest.builder().user("Once upon a time")
                    .sampling(io.corral.api.SamplingParams.builder().temperature(0).maxTokens(4).build()).build()).text())
                    .isEqualTo(", there was a");
        }
    }

    record Case(String yaml, int line, String key, String problem) {
    }

    @Test
    void errorsNameTheFileTheLineAndTheKey(@TempDir Path dir) throws Exception {
        var env = Map.of("MODEL", "/m.gguf");
        for (Case c : new Case[]{
                new Case(GOOD.replace("port: ${env.PORT:=9321}", "port: lots"), 4, "server.port", "whole number"),
                new Case(GOOD.replace("routing: remote-first", "routng: remote-first"), 6, "server.routng", "unknown key"),
                new Case(GOOD.replace("routing: remote-first", "idle_timeout: 0"), 6, "server.idle_timeout", "more than 0"),
                new Case(GOOD.replace("provider_id: ollama", "provider_id: local"), 14, "providers.inference[1].provider_id", "used twice"),
                new Case(GOOD.replace("provider_id: local\n    provider_model_id", "provider_id: nobody\n    provider_model_id"),
                        21, "models[0].provider_id", "no provider 'nobody'"),
                new Case(GOOD.replace("${env.MODEL}", "${env.NOT_SET_ANYWHERE}"), 12, "providers.inference[0].config.model", "NOT_SET_ANYWHERE"),
                new Case("server: [1, 2\n", 2, "(yaml)", ""),
                new Case("providers:\n  inference: []\n", 1, "providers.inference", "at least one"),
        }) {
            Path f = write(dir, c.yaml());
            assertThatThrownBy(() -> ConfigLoader.load(f, env::get)).as(c.key())
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(f + ":" + c.line() + ": " + c.key() + ": ")
                    .hasMessageContaining(c.problem());
        }
    }

    @Test
    void unknownProviderTypes_andBadProviderConfig_areConfigErrorsToo(@TempDir Path dir) throws Exception {
        Path f = write(dir, GOOD.replace("remote::ollama", "remote::nonsense"));
        assertThatThrownBy(() -> Distribution.open(f, ConfigLoader.load(f, Map.of("MODEL", stories())::get), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(f + ":15: providers.inference[1].provider_type: unknown provider type 'remote::nonsense'");
        Path g = write(dir, GOOD);
        assertThatThrownBy(() -> Distribution.open(g, ConfigLoader.load(g, Map.of("MODEL", "/missing.gguf")::get), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(g + ":10: providers.inference[0].config: model file not found");
    }
}
