package io.corral.cli;

import io.corral.Corral;
import io.corral.config.ConfigLoader;
import io.corral.config.Distribution;
import io.corral.config.DistributionConfig;
import io.corral.engines.EngineRegistry;
import io.corral.routing.RoutingMode;
import io.corral.server.CorralServer;
import java.time.Duration;
import io.corral.server.ServerConfig;
import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import io.corral.telemetry.Telemetry;
import io.corral.telemetry.TelemetryConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over the OpenAI and Llama Stack HTTP APIs.",
                "Loopback only unless --allow-remote, which then requires an API key."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--host", description = "Address to bind (default ${DEFAULT-VALUE}).", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", description = "Port; 0 picks a free one (default ${DEFAULT-VALUE}).", defaultValue = "8321")
    int port;

    @Option(names = "--allow-remote", description = "Allow binding to a non-loopback address.")
    boolean allowRemote;

    @Option(names = "--api-key", description = "Accepted bearer key (repeatable; also CORRAL_API_KEYS, comma-separated).")
    List<String> apiKeys = new ArrayList<>();

    @Option(names = {"-m", "--model"}, description = "GGUF model file (default: the bundled stories260K).")
    Path model;

    @Option(names = "--model-id", description = "The id clients use for the model (default: the file name).")
    String modelId;

    @Option(names = "--mmproj", paramLabel = "FILE", description = "The model's multimodal projector (GGUF), so that it sees"
            + " images (default: NAME.mmproj.gguf or mmproj-NAME.gguf beside the model, if there is one).")
    Path mmproj;

    @Option(names = {"-t", "--threads"}, description = "CPU threads at most (a small model's small steps take one); 0 = all cores (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int threads;

    @Option(names = {"-c", "--ctx-size"}, description = "Context window per request; 0 = the model's, up to 8192 (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int contextSize;

    @Option(names = "--parallel", description = "Requests generated at once per model (default ${DEFAULT-VALUE}).", defaultValue = "2")
    int parallel;

    @picocli.CommandLine.Mixin
    GpuOptions gpu = new GpuOptions();

    @Option(names = "--max-queued", description = "Requests per model running or waiting before 429 (default ${DEFAULT-VALUE}).", defaultValue = "32")
    int maxQueued;

    @Option(names = "--routing", description = "local-first, remote-first, local-only or remote-only (default ${DEFAULT-VALUE}).",
            defaultValue = "local-first")
    String routing;

    @Option(names = "--health-interval", description = "Seconds between health probes of remote hosts; 0 = off (default ${DEFAULT-VALUE}).",
            defaultValue = "15")
    int healthInterval;

    @Option(names = "--no-local", description = "Serve remote engines only (from LLAMACPP_HOSTS, MLX_HOSTS, OLLAMA_HOSTS, LMSTUDIO_HOSTS, VLLM_HOSTS).")
    boolean noLocal;

    @Option(names = "--config", description = {"A distribution config (YAML): server settings, providers, models.",
            "--host, --port, --allow-remote, --max-queued and --health-interval given here override its server section;",
            "--model, --model-id, --threads, --ctx-size, --parallel, --routing and --no-local are refused with it."})
    Path configFile;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", description = "On SIGTERM, how long running requests may finish before their streams end (default ${DEFAULT-VALUE}).", defaultValue = "10")
    int shutdownGrace;

    @Option(names = "--admin-key", description = "A key that may also use admin routes (repeatable; also CORRAL_ADMIN_KEYS). With none, every key may.")
    List<String> adminKeys = new ArrayList<>();

    @Option(names = "--requests-per-minute", paramLabel = "N", description = "Requests a minute per API key; 0 = no limit (default ${DEFAULT-VALUE}).", defaultValue = "0")
    int requestsPerMinute;

    @Option(names = "--tokens-per-minute", paramLabel = "N", description = "Tokens (prompt and answer) a minute per API key; 0 = no limit (default ${DEFAULT-VALUE}).", defaultValue = "0")
    long tokensPerMinute;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Serve HTTPS with this certificate (chain), with --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The certificate's private key (PKCS#8 PEM).")
    Path tlsKey;

    @Option(names = "--log-content", description = "Debug: log prompts and answers (API keys redacted).")
    boolean logContent;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Served served = start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            served.close();
            stopped.countDown();
        }, "corral-shutdown"));
        stopped.await();
        return 0;
    }

    /** A server started by {@link #start()}: {@link #close()} stops it and everything it serves, in order. */
    record Served(CorralServer server, AutoCloseable stop) implements AutoCloseable {
        @Override
        public void close() {
            try {
                stop.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Builds and starts what the options and the config name; returns once the port is bound. */
    Served start() {
        List<String> keys = withEnvironment(apiKeys, "CORRAL_API_KEYS");
        ServerConfig config;
        if (configFile != null) {
            List<String> clash = FILE_ONLY.stream().filter(this::given).toList();
            if (!clash.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), String.join(", ", clash)
                        + " cannot be combined with --config: set the model, its threads, context, parallelism and GPU use in the "
                        + "file's inline::llamacpp provider, and routing as server.routing (or per model)");
            }
        }
        DistributionConfig distribution = configFile == null ? null : ConfigLoader.load(configFile);
        try {
            if (distribution != null) {
                var s = distribution.server();
                keys.addAll(s.apiKeys());
                healthInterval = given("--health-interval") ? healthInterval : s.healthInterval();
                config = new ServerConfig(given("--host") ? host : s.host(), given("--port") ? port : s.port(),
                        allowRemote || s.allowRemote(), keys, s.maxBodyBytes(), given("--max-queued") ? maxQueued : s.maxQueued(),
                        logContent, Duration.ofSeconds(s.idleTimeout()), s.trustedProxies(), s.maxInputTokens(),
                        tlsCert != null || tlsKey != null ? ServerConfig.Tls.of(tlsCert, tlsKey) : ServerConfig.Tls.of(s.tlsCert(), s.tlsKey()),
                        limits(s.rateLimits()), admins(s.adminKeys()),
                        Duration.ofSeconds(given("--shutdown-grace") ? shutdownGrace : s.shutdownGrace()));
            } else {
                config = new ServerConfig(host, port, allowRemote, keys, 8L << 20, maxQueued, logContent,
                        ServerConfig.DEFAULT_IDLE_TIMEOUT).withTls(ServerConfig.Tls.of(tlsCert, tlsKey))
                        .withRateLimits(limits(null)).withAdminKeys(admins(List.of()))
                        .withShutdownGrace(Duration.ofSeconds(shutdownGrace));
            }
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        TelemetryConfig traces = telemetry(distribution); // a bad telemetry section fails before any engine starts
        oneLineLogs();
        if (distribution != null && !distribution.ignored().isEmpty()) {
            System.getLogger("corral").log(System.Logger.Level.WARNING, configFile + ": Corral has no use for "
                    + String.join(", ", distribution.ignored()) + " (Llama Stack keys; ignored)");
        }
        Corral.Builder engines = Corral.builder().environment(System.getenv());
        if (distribution != null) {
            engines.distribution(configFile, distribution);
        } else {
            engines.model(PullCommand.resolve(model)).modelId(modelId == null && model != null && PullCommand.resolve(model) != model
                    ? model.toString() : modelId).mmproj(mmproj).contextSize(contextSize).threads(threads).parallel(parallel)
                    .offload(gpu.offload()).local(!noLocal).routing(RoutingMode.parse(routing));
        }
        Corral corral = engines.build();
        EngineRegistry registry = corral.engines();
        Telemetry telemetry;
        try {
            telemetry = Telemetry.start(traces);
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        Knowledge knowledge;
        try {
            knowledge = Knowledge.open(configFile, distribution, io.corral.retrieval.Embedder.of(corral::embed, corral::models));
            knowledge.syncFolders(distribution);
        } catch (RuntimeException e) {
            registry.close();
            telemetry.close();
            throw e;
        }
        io.corral.safety.SafetyService safety;
        try {
            safety = Shields.open(configFile, distribution, registry::resolve, knowledge.state);
        } catch (RuntimeException e) {
            registry.close();
            telemetry.close();
            knowledge.close();
            throw e;
        }
        io.corral.agents.ResponsesService responses = new io.corral.agents.ResponsesService(registry::resolve, knowledge.stores,
                safety.guardrail(), knowledge.state, java.time.Clock.systemUTC(), urls(distribution), webSearch(distribution), knowledge.files);
        io.corral.models.ModelStore pulled = PullCommand.store();
        int engineThreads = distribution == null ? threads : 0;
        io.corral.llamacpp.Offload engineOffload = distribution == null ? gpu.offload() : io.corral.llamacpp.Offload.AUTO;
        io.corral.engines.OnDemand onDemand = new io.corral.engines.OnDemand(
                () -> pulled.list().stream().map(io.corral.models.ModelStore.Model::name).toList(),
                name -> pulled.find(name).map(io.corral.models.ModelStore.Model::file),
                (name, file) -> io.corral.llamacpp.LlamaCppEngine.open(io.corral.llamacpp.LlamaCppConfig.of(file).withId(name)
                        .withThreads(engineThreads).withOffload(engineOffload)),
                Duration.ofMinutes(5), memoryBudget(), Duration.ofMinutes(5), io.corral.routing.Ticker.system(),
                java.time.Clock.systemUTC());
        java.util.concurrent.ScheduledExecutorService sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("corral-unload").unstarted(r));
        sweeper.scheduleWithFixedDelay(onDemand::sweep, 30, 30, java.util.concurrent.TimeUnit.SECONDS);
        CorralServer server = CorralServer.builder(config).registry(registry).telemetry(telemetry).files(knowledge.files)
                .vectorStores(knowledge.stores).safety(safety)
                .onDemand(onDemand)
                .library(new io.corral.models.PulledModels(pulled, io.corral.models.Puller.of(pulled, System.getenv(), urls(distribution))))
                .urls(urls(distribution)).budgets(budgets(distribution), knowledge.state).state(knowledge.state).responses(responses).prompts(responses.prompts()).legacyAgents(new io.corral.agents.LegacyAgentsService(responses, knowledge.state,
                        java.time.Clock.systemUTC())).start();
        AutoCloseable health = registry.startHealthChecks(Duration.ofSeconds(healthInterval));
        return new Served(server, () -> {
            try {
                health.close();
            } catch (Exception ignored) {
                // stopping anyway
            }
            server.close();
            sweeper.shutdownNow();
            onDemand.close();
            responses.close();
            telemetry.close();
            safety.close();
            knowledge.close();
            for (var h : ACCESS.getHandlers()) {
                h.flush();
            }
        });
    }

    /**
     * Where traces go: the built-in store by default (under the cache directory), OTLP when the standard
     * {@code OTEL_EXPORTER_OTLP_*} variables say so, and the config file's telemetry provider over both.
     */
    private TelemetryConfig telemetry(DistributionConfig distribution) {
        ProviderFactory.Context context = ProviderFactory.Context.system();
        List<DistributionConfig.Provider> providers = distribution == null ? List.of()
                : distribution.providers().getOrDefault(Api.TELEMETRY.section(), List.of());
        try {
            if (providers.isEmpty()) {
                return TelemetryConfig.defaults(context.environment(), context.cacheDir().resolve("traces.db"));
            }
            DistributionConfig.Provider p = providers.getFirst();
            return (TelemetryConfig) Distribution.create(configFile, p, p.config(), "providers.telemetry[0]", context);
        } catch (IllegalArgumentException e) { // an OTEL_* variable
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "telemetry: " + e.getMessage());
        }
    }

    /** Per key budgets of requests and tokens a day or month: the config's {@code server.budgets}, none without one. */
    private static io.corral.server.http.Budgets.Config budgets(DistributionConfig distribution) {
        if (distribution == null) {
            return io.corral.server.http.Budgets.Config.NONE;
        }
        DistributionConfig.Budgets b = distribution.server().budgets();
        java.util.Map<String, io.corral.server.http.Budgets.Limit> keys = new java.util.LinkedHashMap<>();
        b.keys().forEach((k, v) -> keys.put(k, new io.corral.server.http.Budgets.Limit(v.requests(), v.tokens())));
        return new io.corral.server.http.Budgets.Config(b.period(),
                new io.corral.server.http.Budgets.Limit(b.defaults().requests(), b.defaults().tokens()), keys);
    }

    /** Where URLs that requests carry may lead: the config's {@code urls:} section, public addresses only without one. */
    private static io.corral.api.UrlPolicy urls(DistributionConfig distribution) {
        return distribution == null ? io.corral.api.UrlPolicy.PUBLIC_ONLY : distribution.urls();
    }

    /** The config's first tool_runtime provider with a {@code web_search} tool (Brave, Tavily, SearXNG), or null. */
    private io.corral.spi.ToolRuntimeProvider webSearch(DistributionConfig distribution) {
        if (distribution == null) {
            return null;
        }
        int i = 0;
        for (DistributionConfig.Provider p : distribution.providers().getOrDefault(Api.TOOL_RUNTIME.section(), List.of())) {
            var made = (io.corral.spi.ToolRuntimeProvider) Distribution.create(configFile, p, p.config(), "providers.tool_runtime[" + i++ + "]",
                    ProviderFactory.Context.system());
            if (made.tools(null).stream().anyMatch(t -> t.name().equals("web_search"))) {
                return made;
            }
        }
        return null;
    }

    /** Bytes of pulled models loaded at once: half the machine's memory. */
    private static long memoryBudget() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize() / 2;
        }
        return 8L << 30;
    }

    /** Options that describe what the config file describes: given with --config, they are refused, not ignored. */
    private static final List<String> FILE_ONLY = List.of("--model", "--model-id", "--threads", "--ctx-size", "--parallel",
            "--routing", "--no-local", "--gpu-layers", "--main-gpu", "--split-mode", "--no-gpu");

    /** Keys given as options, then those of the comma-separated environment variable {@code variable}. */
    private static List<String> withEnvironment(List<String> given, String variable) {
        List<String> all = new ArrayList<>(given);
        String env = System.getenv(variable);
        if (env != null) {
            Arrays.stream(env.split(",")).map(String::strip).filter(k -> !k.isEmpty()).forEach(all::add);
        }
        return all;
    }

    /** --admin-key, CORRAL_ADMIN_KEYS and the config's server.admin_keys. */
    private List<String> admins(List<String> fromConfig) {
        List<String> all = withEnvironment(adminKeys, "CORRAL_ADMIN_KEYS");
        all.addAll(fromConfig);
        return all;
    }

    /** The config's rate limits, with --requests-per-minute and --tokens-per-minute over its defaults. */
    private io.corral.server.http.RateLimits.Config limits(DistributionConfig.RateLimits section) {
        java.util.Map<String, io.corral.server.http.RateLimits.Limit> keys = new java.util.LinkedHashMap<>();
        if (section != null) {
            section.keys().forEach((k, l) -> keys.put(k, new io.corral.server.http.RateLimits.Limit(l.requestsPerMinute(),
                    l.tokensPerMinute())));
        }
        int requests = given("--requests-per-minute") || section == null ? requestsPerMinute : section.defaults().requestsPerMinute();
        long tokens = given("--tokens-per-minute") || section == null ? tokensPerMinute : section.defaults().tokensPerMinute();
        return new io.corral.server.http.RateLimits.Config(new io.corral.server.http.RateLimits.Limit(requests, tokens), keys);
    }

    /** Whether the command line itself set {@code option} (then it wins over the config file). */
    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * Log lines on stderr as {@code corral: message}; Netty's own chatter only when it warns. The access
     * log (a line per request) is written in batches, at most 200 ms late, and flushed when Corral stops.
     */
    private static void oneLineLogs() {
        System.setProperty("java.util.logging.SimpleFormatter.format", "corral: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            h.setFormatter(new java.util.logging.SimpleFormatter());
        }
        NETTY.setLevel(Level.WARNING);
        ACCESS.setUseParentHandlers(false);
        ACCESS.addHandler(new BufferedLogHandler(System.err, "corral: ", Duration.ofMillis(200)));
    }

    // held: JUL keeps loggers weakly
    private static final Logger NETTY = Logger.getLogger("io.netty");
    private static final Logger ACCESS = Logger.getLogger("corral.access");
}
