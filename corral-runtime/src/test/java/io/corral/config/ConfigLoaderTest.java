package io.corral.config;

import io.corral.engines.EngineRegistry;
import io.corral.llamacpp.LlamaCppProviderFactory;
import io.corral.remote.RemoteProviderFactory;
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
        assertThat(c.server().tlsCert()).isNull();
        assertThat(c.server().rateLimits().defaults()).isEqualTo(new DistributionConfig.Limit(0, 0));
        DistributionConfig limited = ConfigLoader.load(write(dir, GOOD.replace("routing: remote-first",
                "routing: remote-first\n  rate_limits:\n    requests_per_minute: 60\n    keys:\n      sk-gold: {requests_per_minute: 600, tokens_per_minute: 100000}")),
                Map.of("MODEL", "/m.gguf")::get);
        assertThat(limited.server().rateLimits().defaults()).isEqualTo(new DistributionConfig.Limit(60, 0));
        assertThat(limited.server().rateLimits().keys()).containsEntry("sk-gold", new DistributionConfig.Limit(600, 100_000));
        assertThat(c.server().budgets()).isEqualTo(new DistributionConfig.Budgets("month", new DistributionConfig.Budget(0, 0), Map.of()));
        DistributionConfig budgets = ConfigLoader.load(write(dir, GOOD.replace("routing: remote-first",
                "routing: remote-first\n  budgets:\n    period: day\n    tokens: 5000000000\n    keys:\n      sk-gold: {requests: 1000}")),
                Map.of("MODEL", "/m.gguf")::get);
        assertThat(budgets.server().budgets()).isEqualTo(new DistributionConfig.Budgets("day", new DistributionConfig.Budget(0, 5_000_000_000L),
                Map.of("sk-gold", new DistributionConfig.Budget(1000, 0))));
        // TLS files are found beside the config file
        Files.writeString(dir.resolve("cert.pem"), "x");
        Files.writeString(dir.resolve("key.pem"), "x");
        DistributionConfig tls = ConfigLoader.load(write(dir, GOOD.replace("routing: remote-first",
                "routing: remote-first\n  tls_cert: cert.pem\n  tls_key: key.pem")), Map.of("MODEL", "/m.gguf")::get);
        assertThat(tls.server().tlsCert()).isEqualTo(dir.resolve("cert.pem").toAbsolutePath());
        assertThat(tls.server().tlsKey()).isEqualTo(dir.resolve("key.pem").toAbsolutePath());
        assertThat(c.inference()).extracting(DistributionConfig.Provider::type)
                .containsExactly("inline::llamacpp", "remote::ollama");
        assertThat(c.inference().getFirst().config()).isInstanceOfSatisfying(LlamaCppProviderFactory.Config.class, l -> {
            assertThat(l.model()).isEqualTo("/m.gguf");
            assertThat(l.threads()).isEqualTo(1);
            assertThat(l.parallel()).isNull(); // absent: the engine's default
        });
        assertThat(c.inference().get(1).config()).isInstanceOfSatisfying(RemoteProviderFactory.Config.class,
                r -> assertThat(r.connectTimeout()).isEqualTo(0.5));
        assertThat(c.ignored()).containsExactly("version", "image_name"); // Llama Stack's, no use to Corral: a warning
        assertThat(c.models()).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo("story");
            assertThat(m.routing()).isEqualTo("local-only");
        });
        DistributionConfig noKey = ConfigLoader.load(write(dir, GOOD), Map.of("MODEL", "/m.gguf")::get);
        assertThat(noKey.server().apiKeys()).isEmpty();
        assertThat(noKey.urls()).isEqualTo(io.corral.api.UrlPolicy.PUBLIC_ONLY);
        DistributionConfig urls = ConfigLoader.load(write(dir, GOOD + "urls:\n  allow_hosts: [MCP.internal, 10.0.0.7]\n"),
                Map.of("MODEL", "/m.gguf")::get);
        assertThat(urls.urls()).isEqualTo(new io.corral.api.UrlPolicy(false, java.util.Set.of("mcp.internal", "10.0.0.7")));
        assertThat(ConfigLoader.load(write(dir, GOOD + "urls: {allow_private: true}\n"), Map.of("MODEL", "/m.gguf")::get).urls()
                .allowPrivate()).isTrue();
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
                new Case(GOOD.replace("threads: 1", "thread: 1"), 13, "providers.inference[0].config.thread", "unknown key (expected one of [batch_size"),
                new Case(GOOD.replace("threads: 1", "threads: many"), 13, "providers.inference[0].config.threads", "must be a whole number, was 'many'"),
                new Case(GOOD.replace("threads: 1", "parallel: 0"), 13, "providers.inference[0].config.parallel", "parallel must be at least 1"),
                new Case(GOOD.replace("connect_timeout: 0.5", "connect_timeout: soon"), 18, "providers.inference[1].config.connect_timeout", "must be a number"),
                new Case(GOOD.replace("remote::ollama", "remote::nonsense"), 15, "providers.inference[1].provider_type",
                        "unknown inference provider type 'remote::nonsense' (known: inline::llamacpp, inline::sentence-transformers, remote::llamacpp"),
                new Case(GOOD.replace("inference:", "inferense:"), 8, "providers.inferense", "unknown key"),
                new Case(GOOD.replace("models:\n", "  safety:\n    - provider_id: guard\n      provider_type: inline::prompt-guard\nmodels:\n"),
                        21, "providers.safety[0].provider_type", "unknown safety provider type 'inline::prompt-guard' (known: inline::llama-guard, inline::rules, remote::moderation)"),
                new Case(GOOD.replace("routing: local-only", "model_type: chatbot"), 23, "models[0].model_type", "must be llm or embedding"),
                new Case(GOOD.replace("image_name: corral", "image_nam: corral"), 2, "image_nam", "unknown key"),
                new Case(GOOD.replace("routing: remote-first", "tls_cert: no-such.pem"), 6, "server.tls_cert", "no-such.pem cannot be read"),
                new Case(GOOD.replace("routing: remote-first", "rate_limits: {requests_per_minit: 5}"), 6, "server.rate_limits.requests_per_minit", "unknown key"),
                new Case(GOOD.replace("routing: remote-first", "rate_limits: {tokens_per_minute: -5}"), 6, "server.rate_limits.tokens_per_minute", "0 (no limit) or more"),
                new Case(GOOD.replace("routing: remote-first", "budgets: {period: week}"), 6, "server.budgets.period", "day or month"),
                new Case(GOOD.replace("routing: remote-first", "budgets: {tokens: -1}"), 6, "server.budgets.tokens", "0 (no budget) or more"),
                new Case(GOOD + "agents:\n  allow_private_urls: true\n", GOOD.split("\n").length + 1, "agents", "urls.allow_private"),
                new Case(GOOD + "urls:\n  allow_private_urls: true\n", GOOD.split("\n").length + 2, "urls.allow_private_urls", "unknown key"),
        }) {
            Path f = write(dir, c.yaml());
            assertThatThrownBy(() -> ConfigLoader.load(f, env::get)).as(c.key())
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(f + ":" + c.line() + ": " + c.key() + ": ")
                    .hasMessageContaining(c.problem());
        }
    }

    @Test
    void whatAProviderRefuses_isAConfigErrorToo(@TempDir Path dir) throws Exception {
        Path g = write(dir, GOOD);
        assertThatThrownBy(() -> Distribution.open(g, ConfigLoader.load(g, Map.of("MODEL", "/missing.gguf")::get), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(g + ":10: providers.inference[0].config: model file not found");
    }

    /** The shape of a Llama Stack 0.2.x run.yaml (its ollama distribution, trimmed to the APIs Corral has today). */
    static final String LLAMA_STACK = """
            version: '2'
            image_name: ollama
            container_image: null
            apis:
            - inference
            - telemetry
            - eval
            providers:
              inference:
              - provider_id: ollama
                provider_type: remote::ollama
                config:
                  url: ${env.OLLAMA_URL:http://localhost:11434}
                  refresh_models: false
              telemetry:
              - provider_id: meta-reference
                provider_type: inline::meta-reference
                config:
                  service_name: "${env.OTEL_SERVICE_NAME:=\u200B}"
                  sinks: ${env.TELEMETRY_SINKS:=console,sqlite}
                  sqlite_db_path: ${env.SQLITE_STORE_DIR:=~/.llama/distributions/ollama}/trace_store.db
              vector_io:
              - provider_id: faiss
                provider_type: inline::faiss
                config:
                  kvstore:
                    type: sqlite
                    db_path: ${env.SQLITE_STORE_DIR:=~/.llama/distributions/ollama}/faiss_store.db
              files:
              - provider_id: meta-reference-files
                provider_type: inline::localfs
                config:
                  storage_dir: ${env.FILES_STORAGE_DIR:=~/.llama/distributions/ollama/files}
                  metadata_store:
                    type: sqlite
                    db_path: ${env.SQLITE_STORE_DIR:=~/.llama/distributions/ollama}/files_metadata.db
              eval:
              - provider_id: meta-reference
                provider_type: inline::meta-reference
                config: {}
            metadata_store:
              type: sqlite
              db_path: ${env.SQLITE_STORE_DIR:=~/.llama/distributions/ollama}/registry.db
            models:
            - metadata: {}
              model_id: ${env.INFERENCE_MODEL}
              provider_id: ollama
              provider_model_id: null
              model_type: llm
            - metadata:
                embedding_dimension: 384
              model_id: all-MiniLM-L6-v2
              provider_id: ollama
              provider_model_id: all-minilm:latest
              model_type: embedding
            shields: []
            vector_dbs: []
            server:
              port: 8321
            """;

    @Test
    void aLlamaStackRunYaml_loads_namingWhatCorralIgnores(@TempDir Path dir) throws Exception {
        DistributionConfig c = ConfigLoader.load(write(dir, LLAMA_STACK), Map.of("INFERENCE_MODEL", "llama3.2:3b")::get);
        assertThat(c.ignored()).containsExactly("version", "image_name", "apis", "metadata_store", "vector_dbs",
                "providers.inference[0].config.refresh_models", "providers.vector_io[0].config.kvstore",
                "providers.files[0].config.metadata_store", "providers.eval");
        assertThat(c.providers().get("vector_io")).singleElement().satisfies(p -> assertThat(p.type()).isEqualTo("inline::faiss"));
        var remote = (RemoteProviderFactory.Config) c.inference().getFirst().config();
        assertThat(remote.url()).isEqualTo("http://localhost:11434");
        var telemetry = (io.corral.telemetry.TelemetryProviderFactory.Config) c.providers().get("telemetry").getFirst().config();
        assertThat(telemetry.sinks()).containsExactly("console", "sqlite"); // one comma-separated value is a list
        assertThat(telemetry.sqliteDbPath()).isEqualTo("~/.llama/distributions/ollama/trace_store.db");
        assertThat(c.models()).extracting(DistributionConfig.Model::providerModelId).containsExactly("llama3.2:3b", "all-minilm:latest");
        assertThat(c.models().get(1).type()).isEqualTo(io.corral.spi.ModelType.EMBEDDING);
        assertThat(c.models().get(1).dimension()).isEqualTo(384);
    }

    @Test
    void llamaStacksBuiltInToolRuntimes_areAcceptedAndNamedAsIgnored(@TempDir Path dir) throws Exception {
        String yaml = GOOD.replace("models:\n", "  tool_runtime:\n    - provider_id: rag-runtime\n      provider_type: inline::rag-runtime\n"
                + "    - provider_id: model-context-protocol\n      provider_type: remote::model-context-protocol\nmodels:\n");
        DistributionConfig c = ConfigLoader.load(write(dir, yaml), Map.of("MODEL", "/m.gguf")::get);
        assertThat(c.ignored()).contains("providers.tool_runtime[0] (inline::rag-runtime)",
                "providers.tool_runtime[1] (remote::model-context-protocol)");
        assertThat(c.providers().get("tool_runtime")).isEmpty();
    }

    @Test
    void theDocumentedExample_loads() {
        Path example = Path.of(System.getProperty("corral.root", ".")).toAbsolutePath().resolve("docs/run.example.yaml");
        DistributionConfig c = ConfigLoader.load(example, Map.<String, String>of()::get);
        assertThat(c.ignored()).isEmpty();
        assertThat(c.inference()).hasSize(3);
        assertThat(c.vectorStores().defaultEmbeddingModel()).isEqualTo("all-MiniLM-L6-v2");
        assertThat(c.vectorStores().stores()).singleElement().satisfies(f -> {
            assertThat(f.id()).isEqualTo("knowledge");
            assertThat(f.watch()).isTrue();
            assertThat(f.chunking()).isEqualTo(io.corral.spi.VectorStores.Chunking.AUTO);
        });
        assertThat(c.providers().get("telemetry")).singleElement().satisfies(p -> assertThat(p.type()).isEqualTo("inline::meta-reference"));
        assertThat(c.models()).extracting(DistributionConfig.Model::type).containsExactly(null, io.corral.spi.ModelType.EMBEDDING);
        assertThat(c.providers().get("safety")).extracting(DistributionConfig.Provider::type).containsExactly("inline::rules", "inline::llama-guard");
        assertThat(c.shields()).extracting(DistributionConfig.Shield::id).containsExactly("injection", "content_safety");
        assertThat(c.shields().getFirst().params()).isEqualTo(Map.of("pii", java.util.List.of()));
        assertThat(c.guardrails().window()).isEqualTo(200);
        assertThat(c.guardrails().holdBack()).isTrue();
        assertThat(c.guardrails().models().get("story")).containsExactly(java.util.List.of("injection"), java.util.List.of("injection"));
    }
}
