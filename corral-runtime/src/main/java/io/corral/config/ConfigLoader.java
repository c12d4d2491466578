package io.corral.config;

import io.corral.spi.Api;
import io.corral.spi.ProviderFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a distribution config. Scalars may use {@code ${env.NAME}} (required), {@code ${env.NAME:=default}}
 * (also {@code ${env.NAME:default}}, older Llama Stack's spelling) and {@code ${env.NAME:+value}} (value when
 * NAME is set, else empty); {@code key: null} is the key left out. Each provider's {@code config:} is bound to
 * the record of the factory its {@code provider_type} names. Keys of Llama Stack's run.yaml that Corral has no
 * use for are accepted and listed in {@link DistributionConfig#ignored()}. Every problem is a
 * {@link ConfigException} naming the file, the line and the key.
 */
public final class ConfigLoader {

    private static final Pattern ENV = Pattern.compile("\\$\\{env\\.([A-Za-z_][A-Za-z0-9_]*)(?:(:=|:\\+|:)([^}]*))?}");
    private static final Set<String> TOP = Set.of("server", "providers", "models", "vector_stores", "shields", "guardrails",
            "registered_resources", "urls");
    /** Keys of Llama Stack's run.yaml that Corral has no use for: accepted, with one warning that names them. */
    private static final Set<String> LLAMA_STACK_TOP = Set.of("version", "image_name", "apis", "distro_name",
            "container_image", "external_providers_dir", "metadata_store", "inference_store", "conversations_store",
            "storage", "logging", "telemetry", "benchmarks", "scoring_fns", "datasets", "tool_groups", "vector_dbs",
            "connectors", "safety");
    /** Provider sections of Llama Stack's APIs that Corral does not have: the same. */
    private static final Set<String> LLAMA_STACK_APIS = Set.of("eval", "datasetio", "scoring", "post_training", "batches",
            "inspect", "prompts", "conversations", "benchmarks");
    /**
     * Llama Stack provider types whose work Corral does without a provider (RAG through file_search, MCP through the
     * mcp tool): accepted and listed as ignored, so a Llama Stack run.yaml loads unchanged.
     */
    private static final Map<String, Set<String>> LLAMA_STACK_BUILT_IN = Map.of(
            "tool_runtime", Set.of("inline::rag-runtime", "remote::model-context-protocol"));
    private static final Set<String> SERVER = Set.of("host", "port", "allow_remote", "api_keys", "max_body_bytes",
            "max_queued", "routing", "health_interval", "idle_timeout", "trusted_proxies", "max_input_tokens", "tls_cert", "tls_key", "rate_limits", "admin_keys", "shutdown_grace", "budgets");
    private static final Set<String> LIMITS = Set.of("requests_per_minute", "tokens_per_minute");

    private final String file;
    private final Function<String, String> env;
    private final List<String> ignored = new ArrayList<>();

    private ConfigLoader(String file, Function<String, String> env) {
        this.file = file;
        this.env = env;
    }

    public static DistributionConfig load(Path path) {
        return load(path, System::getenv);
    }

    public static DistributionConfig load(Path path, Function<String, String> env) {
        String name = path.toString();
        try (Reader in = Files.newBufferedReader(path)) {
            return new ConfigLoader(name, env).read(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(name, 0, "(file)", "not found");
        } catch (IOException e) {
            throw new ConfigException(name, 0, "(file)", "cannot read: " + e.getMessage());
        }
    }

    private DistributionConfig read(Reader in) {
        Node root;
        try {
            root = new Yaml(new LoaderOptions()).compose(in);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(file, e.getProblemMark().getLine() + 1, "(yaml)", e.getProblem());
        }
        if (root == null) {
            throw new ConfigException(file, 1, "(file)", "is empty");
        }
        if (root instanceof MappingNode rm) {
            for (NodeTuple t : rm.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("agents")) {
                    throw new ConfigException(file, line(t.getKeyNode()), "agents", "Corral's agents section is gone: "
                            + "agents.allow_private_urls is now urls.allow_private (beside urls.allow_hosts), for every URL a request carries");
                }
            }
        }
        Set<String> topKeys = new java.util.HashSet<>(TOP);
        topKeys.addAll(LLAMA_STACK_TOP);
        Map<String, NodeTuple> top = mapping(root, "(top level)", topKeys);
        top.keySet().stream().filter(LLAMA_STACK_TOP::contains).forEach(ignored::add);
        DistributionConfig.Server server = server(top.get("server"));
        Map<String, List<DistributionConfig.Provider>> providers = providers(top.get("providers"));
        List<DistributionConfig.Model> models = models(top.get("models"), providers);
        if (providers.getOrDefault("inference", List.of()).isEmpty()) {
            throw new ConfigException(file, line(root), "providers.inference", "at least one inference provider is needed");
        }
        List<DistributionConfig.Shield> shields = new ArrayList<>(shields(top.get("shields"), "shields", providers));
        if (top.containsKey("registered_resources")) {
            Map<String, NodeTuple> r = mapping(top.get("registered_resources").getValueNode(), "registered_resources", null);
            for (String k : r.keySet()) {
                if (k.equals("shields")) {
                    shields.addAll(shields(r.get(k), "registered_resources.shields", providers));
                } else {
                    ignored.add("registered_resources." + k);
                }
            }
        }
        return new DistributionConfig(server, providers, models, vectorStores(top.get("vector_stores")), List.copyOf(shields),
                guardrails(top.get("guardrails"), shields), urls(top.get("urls")), List.copyOf(ignored));
    }

    private DistributionConfig.Server server(NodeTuple t) {
        Map<String, NodeTuple> m = t == null ? Map.of() : mapping(t.getValueNode(), "server", SERVER);
        return new DistributionConfig.Server(text(m, "host", "server", "127.0.0.1"),
                integer(m, "port", "server", 8321), bool(m, "allow_remote", "server", false), strings(m, "server", "api_keys"),
                integer(m, "max_body_bytes", "server", 8 << 20), integer(m, "max_queued", "server", 32),
                text(m, "routing", "server", "local-first"), integer(m, "health_interval", "server", 15),
                positive(m, "idle_timeout", "server", 300), strings(m, "server", "trusted_proxies"),
                positive(m, "max_input_tokens", "server", 300_000), path(m, "tls_cert"), path(m, "tls_key"),
                limits(m.get("rate_limits")), strings(m, "server", "admin_keys"), nonNegative(m, "shutdown_grace", 10),
                budgets(m.get("budgets")));
    }

    private static final Set<String> BUDGET = Set.of("requests", "tokens");

    /** {@code server.budgets}: a period (day or month), a default per key, and {@code keys:} some keys' own. */
    private DistributionConfig.Budgets budgets(NodeTuple t) {
        if (t == null) {
            return new DistributionConfig.Budgets("month", new DistributionConfig.Budget(0, 0), Map.of());
        }
        Set<String> allowed = new java.util.HashSet<>(BUDGET);
        allowed.addAll(Set.of("keys", "period"));
        Map<String, NodeTuple> m = mapping(t.getValueNode(), "server.budgets", allowed);
        String period = text(m, "period", "server.budgets", "month");
        if (!period.equals("day") && !period.equals("month")) {
            throw new ConfigException(file, line(m.get("period").getValueNode()), "server.budgets.period", "must be day or month, was '" + period + "'");
        }
        Map<String, DistributionConfig.Budget> keys = new LinkedHashMap<>();
        if (m.containsKey("keys")) {
            for (var e : mapping(m.get("keys").getValueNode(), "server.budgets.keys", null).entrySet()) {
                String where = "server.budgets.keys." + (e.getKey().length() > 4 ? e.getKey().substring(0, 4) + "..." : e.getKey());
                keys.put(e.getKey(), budget(mapping(e.getValue().getValueNode(), where, BUDGET), where));
            }
        }
        return new DistributionConfig.Budgets(period, budget(m, "server.budgets"), keys);
    }

    private DistributionConfig.Budget budget(Map<String, NodeTuple> m, String where) {
        long[] v = new long[2];
        int i = 0;
        for (String k : List.of("requests", "tokens")) {
            String text = text(m, k, where, null);
            try {
                v[i] = text == null || text.isBlank() ? 0 : Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(file, line(m.get(k).getValueNode()), where + "." + k, "must be a whole number, was '" + text + "'");
            }
            if (v[i++] < 0) {
                throw new ConfigException(file, line(m.get(k).getValueNode()), where + "." + k, "must be 0 (no budget) or more");
            }
        }
        return new DistributionConfig.Budget(v[0], v[1]);
    }

    private int nonNegative(Map<String, NodeTuple> m, String key, int fallback) {
        int v = integer(m, key, "server", fallback);
        if (v < 0) {
            throw new ConfigException(file, line(m.get(key).getValueNode()), "server." + key, "must be 0 or more, was " + v);
        }
        return v;
    }

    /** {@code server.rate_limits}: a default per key, and {@code keys:} some keys' own, each requests and tokens a minute. */
    private DistributionConfig.RateLimits limits(NodeTuple t) {
        if (t == null) {
            return new DistributionConfig.RateLimits(new DistributionConfig.Limit(0, 0), Map.of());
        }
        Set<String> allowed = new java.util.HashSet<>(LIMITS);
        allowed.add("keys");
        Map<String, NodeTuple> m = mapping(t.getValueNode(), "server.rate_limits", allowed);
        Map<String, DistributionConfig.Limit> keys = new LinkedHashMap<>();
        if (m.containsKey("keys")) {
            for (var e : mapping(m.get("keys").getValueNode(), "server.rate_limits.keys", null).entrySet()) {
                String where = "server.rate_limits.keys." + (e.getKey().length() > 4 ? e.getKey().substring(0, 4) + "..." : e.getKey());
                keys.put(e.getKey(), limit(mapping(e.getValue().getValueNode(), where, LIMITS), where));
            }
        }
        return new DistributionConfig.RateLimits(limit(m, "server.rate_limits"), keys);
    }

    private DistributionConfig.Limit limit(Map<String, NodeTuple> m, String where) {
        int requests = integer(m, "requests_per_minute", where, 0);
        int tokens = integer(m, "tokens_per_minute", where, 0);
        for (String k : LIMITS) {
            if (m.containsKey(k) && integer(m, k, where, 0) < 0) {
                throw new ConfigException(file, line(m.get(k).getValueNode()), where + "." + k, "must be 0 (no limit) or more");
            }
        }
        return new DistributionConfig.Limit(requests, tokens);
    }

    /** A file named under {@code server.<key>}, relative to the config file's folder; null when not given. */
    private java.nio.file.Path path(Map<String, NodeTuple> m, String key) {
        String v = text(m, key, "server", null);
        if (v == null || v.isBlank()) {
            return null;
        }
        java.nio.file.Path p = java.nio.file.Path.of(v);
        java.nio.file.Path dir = java.nio.file.Path.of(file).toAbsolutePath().getParent();
        p = p.isAbsolute() || dir == null ? p : dir.resolve(p);
        if (!java.nio.file.Files.isReadable(p)) {
            throw new ConfigException(file, line(m.get(key).getValueNode()), "server." + key, p + " cannot be read");
        }
        return p;
    }

    /** A list of strings under {@code <section>.<key>}; blank entries (an unset variable) are left out. */
    private List<String> strings(Map<String, NodeTuple> m, String section, String key) {
        List<String> values = new ArrayList<>();
        if (m.containsKey(key)) {
            for (Node k : sequence(m.get(key).getValueNode(), section + "." + key)) {
                String v = scalar(k, section + "." + key);
                if (!v.isBlank()) {
                    values.add(v);
                }
            }
        }
        return values;
    }

    /**
     * Each API's providers, each bound to the configuration record of the factory its {@code provider_type}
     * names: an unknown type, or an unknown key in its {@code config:}, is an error naming the line.
     */
    private Map<String, List<DistributionConfig.Provider>> providers(NodeTuple t) {
        if (t == null) {
            throw new ConfigException(file, 1, "providers", "is required (providers.inference lists the inference providers)");
        }
        Set<String> sections = new java.util.HashSet<>(LLAMA_STACK_APIS);
        for (Api a : Api.values()) {
            sections.add(a.section());
        }
        Map<String, List<DistributionConfig.Provider>> all = new LinkedHashMap<>();
        Set<String> ids = new java.util.HashSet<>();
        for (var section : mapping(t.getValueNode(), "providers", sections).entrySet()) {
            Api api = Api.bySection(section.getKey());
            if (api == null) {
                ignored.add("providers." + section.getKey());
                continue;
            }
            List<DistributionConfig.Provider> list = new ArrayList<>();
            int i = 0;
            for (Node p : sequence(section.getValue().getValueNode(), "providers." + section.getKey())) {
                String where = "providers." + section.getKey() + "[" + i++ + "]";
                Map<String, NodeTuple> m = mapping(p, where, Set.of("provider_id", "provider_type", "config"));
                String id = required(m, "provider_id", where, p);
                String type = required(m, "provider_type", where, p);
                if (!ids.add(id)) {
                    throw new ConfigException(file, line(m.get("provider_id").getValueNode()), where + ".provider_id",
                            "'" + id + "' is used twice");
                }
                int at = line(m.get("provider_type").getValueNode());
                if (LLAMA_STACK_BUILT_IN.getOrDefault(section.getKey(), Set.of()).contains(type)) {
                    ignored.add(where + " (" + type + ")");
                    continue;
                }
                ProviderFactory<?, ?> factory = ProviderFactory.find(api, type).orElseThrow(() -> {
                    List<String> known = ProviderFactory.known(api);
                    return new ConfigException(file, at, where + ".provider_type", "unknown " + api.section()
                            + " provider type '" + type + "' (known: " + (known.isEmpty() ? "none in this version" : String.join(", ", known)) + ")");
                });
                Node config = m.containsKey("config") ? m.get("config").getValueNode() : null;
                if (config instanceof ScalarNode sn && sn.getValue().isBlank()) {
                    config = null; // "config:" with nothing under it
                }
                list.add(new DistributionConfig.Provider(id, type, factory, bind(config, factory.configType(), where + ".config"), at));
            }
            if (api == Api.TELEMETRY && list.size() > 1) {
                throw new ConfigException(file, list.get(1).line(), "providers.telemetry[1]", "one telemetry provider at most");
            }
            all.put(api.section(), list);
        }
        return all;
    }

    private DistributionConfig.VectorStores vectorStores(NodeTuple t) {
        if (t == null || t.getValueNode() instanceof org.yaml.snakeyaml.nodes.ScalarNode) {
            return DistributionConfig.VectorStores.NONE;
        }
        Node folders = t.getValueNode();
        String provider = null;
        String model = null;
        if (folders instanceof org.yaml.snakeyaml.nodes.MappingNode) {
            Map<String, NodeTuple> m = mapping(folders, "vector_stores", Set.of("default_provider_id", "default_embedding_model",
                    "stores", "default_reranker_model", "default_query_expansion_model", "file_search_params",
                    "chunk_size_tokens", "chunk_overlap_tokens", "annotation_prompt_params", "file_ingestion_params",
                    "chunk_retrieval_params", "file_batch_params", "context_prompt_params"));
            provider = text(m, "default_provider_id", "vector_stores", null);
            if (m.containsKey("default_embedding_model")) {
                Node e = m.get("default_embedding_model").getValueNode();
                model = e instanceof org.yaml.snakeyaml.nodes.ScalarNode ? scalar(e, "vector_stores.default_embedding_model")
                        : required(mapping(e, "vector_stores.default_embedding_model", Set.of("provider_id", "model_id")),
                        "model_id", "vector_stores.default_embedding_model", e);
            }
            m.keySet().stream().filter(k -> !Set.of("default_provider_id", "default_embedding_model", "stores").contains(k))
                    .forEach(k -> ignored.add("vector_stores." + k));
            folders = m.containsKey("stores") ? m.get("stores").getValueNode() : null;
        }
        List<DistributionConfig.Folder> stores = new ArrayList<>();
        if (folders != null) {
            int i = 0;
            Set<String> ids = new java.util.HashSet<>();
            for (Node n : sequence(folders, "vector_stores.stores")) {
                String where = "vector_stores.stores[" + i++ + "]";
                Map<String, NodeTuple> m = mapping(n, where, Set.of("id", "folder", "embedding_model", "chunking", "watch"));
                String id = required(m, "id", where, n);
                if (!id.matches("[A-Za-z0-9_.-]{1,128}")) {
                    throw new ConfigException(file, line(m.get("id").getValueNode()), where + ".id",
                            "must be 1 to 128 letters, digits, '_', '-' or '.', was '" + id + "'");
                }
                if (!ids.add(id)) {
                    throw new ConfigException(file, line(m.get("id").getValueNode()), where + ".id", "'" + id + "' is named twice");
                }
                java.nio.file.Path folder = java.nio.file.Path.of(required(m, "folder", where, n)
                        .replaceFirst("^~(?=/|$)", System.getProperty("user.home")));
                io.corral.spi.VectorStores.Chunking chunking = null;
                if (m.containsKey("chunking")) {
                    Node c = m.get("chunking").getValueNode();
                    if (c instanceof org.yaml.snakeyaml.nodes.ScalarNode && scalar(c, where + ".chunking").equals("auto")) {
                        chunking = io.corral.spi.VectorStores.Chunking.AUTO;
                    } else {
                        Map<String, NodeTuple> cm = mapping(c, where + ".chunking", Set.of("max_chunk_size_tokens", "chunk_overlap_tokens"));
                        try {
                            chunking = io.corral.spi.VectorStores.Chunking.fixed(integer(cm, "max_chunk_size_tokens", where + ".chunking", 800),
                                    integer(cm, "chunk_overlap_tokens", where + ".chunking", 400));
                        } catch (io.corral.api.InvalidRequestException e) {
                            throw new ConfigException(file, line(c), where + ".chunking", e.getMessage());
                        }
                    }
                }
                stores.add(new DistributionConfig.Folder(id, folder, text(m, "embedding_model", where, null), chunking,
                        bool(m, "watch", where, false), line(n)));
            }
        }
        return new DistributionConfig.VectorStores(provider, model, List.copyOf(stores));
    }

    /** Shields as Llama Stack lists them; each names a safety provider of the file (or none, when there is one). */
    private List<DistributionConfig.Shield> shields(NodeTuple t, String section, Map<String, List<DistributionConfig.Provider>> providers) {
        List<DistributionConfig.Shield> shields = new ArrayList<>();
        if (t == null) {
            return shields;
        }
        List<DistributionConfig.Provider> safety = providers.getOrDefault("safety", List.of());
        int i = 0;
        for (Node n : sequence(t.getValueNode(), section)) {
            String where = section + "[" + i++ + "]";
            Map<String, NodeTuple> m = mapping(n, where, Set.of("shield_id", "provider_id", "provider_shield_id", "params"));
            String id = required(m, "shield_id", where, n);
            String providerId = text(m, "provider_id", where, null);
            if (providerId != null && safety.stream().noneMatch(p -> p.id().equals(providerId))) {
                throw new ConfigException(file, line(m.get("provider_id").getValueNode()), where + ".provider_id",
                        "no safety provider '" + providerId + "' is configured");
            }
            if (providerId == null && safety.size() > 1) {
                throw new ConfigException(file, line(n), where + ".provider_id", "is required: there are " + safety.size()
                        + " safety providers");
            }
            Object params = m.containsKey("params") ? plain(m.get("params").getValueNode(), where + ".params") : Map.of();
            if (!(params instanceof Map<?, ?> map)) {
                throw new ConfigException(file, line(m.get("params").getValueNode()), where + ".params", "must be a mapping");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> typed = (Map<String, Object>) map;
            shields.add(new DistributionConfig.Shield(id, providerId, text(m, "provider_shield_id", where, null), typed, line(n)));
        }
        return shields;
    }

    /** {@code guardrails:}: window, mode and, per model, the shields on input and output (each a registered shield). */
    private DistributionConfig.Guardrails guardrails(NodeTuple t, List<DistributionConfig.Shield> shields) {
        if (t == null) {
            return DistributionConfig.Guardrails.NONE;
        }
        Map<String, NodeTuple> m = mapping(t.getValueNode(), "guardrails", Set.of("window", "mode", "models"));
        String mode = text(m, "mode", "guardrails", "hold");
        if (!mode.equals("hold") && !mode.equals("stream")) {
            throw new ConfigException(file, line(m.get("mode").getValueNode()), "guardrails.mode", "must be hold or stream, was '" + mode + "'");
        }
        Map<String, List<List<String>>> models = new LinkedHashMap<>();
        if (m.containsKey("models")) {
            for (var e : mapping(m.get("models").getValueNode(), "guardrails.models", null).entrySet()) {
                String where = "guardrails.models." + e.getKey();
                Map<String, NodeTuple> io = mapping(e.getValue().getValueNode(), where, Set.of("input", "output"));
                List<List<String>> both = new ArrayList<>();
                for (String side : List.of("input", "output")) {
                    List<String> ids = new ArrayList<>();
                    if (io.containsKey(side)) {
                        for (Node n : sequence(io.get(side).getValueNode(), where + "." + side)) {
                            String id = scalar(n, where + "." + side);
                            boolean known = shields.stream().anyMatch(s -> s.id().equals(id)) || shields.isEmpty() && id.equals("rules");
                            if (!known) {
                                throw new ConfigException(file, line(n), where + "." + side, "names shield '" + id
                                        + "', which the file does not register (shields: " + (shields.isEmpty() ? "the built-in 'rules'"
                                        : String.join(", ", shields.stream().map(DistributionConfig.Shield::id).toList())) + ")");
                            }
                            ids.add(id);
                        }
                    }
                    both.add(List.copyOf(ids));
                }
                models.put(e.getKey(), List.copyOf(both));
            }
        }
        return new DistributionConfig.Guardrails(models, positive(m, "window", "guardrails", 200), mode.equals("hold"), line(t.getKeyNode()));
    }

    private io.corral.api.UrlPolicy urls(NodeTuple t) {
        if (t == null) {
            return io.corral.api.UrlPolicy.PUBLIC_ONLY;
        }
        Map<String, NodeTuple> m = mapping(t.getValueNode(), "urls", Set.of("allow_private", "allow_hosts"));
        return new io.corral.api.UrlPolicy(bool(m, "allow_private", "urls", false), Set.copyOf(strings(m, "urls", "allow_hosts")));
    }

    /** A YAML value as plain Java: maps, lists, strings, numbers, booleans (variables substituted). */
    private Object plain(Node node, String where) {
        return switch (node) {
            case MappingNode mn -> {
                Map<String, Object> out = new LinkedHashMap<>();
                for (NodeTuple t : mn.getValue()) {
                    String key = scalar(t.getKeyNode(), where);
                    out.put(key, plain(t.getValueNode(), where + "." + key));
                }
                yield out;
            }
            case SequenceNode sn -> {
                List<Object> out = new ArrayList<>();
                for (Node n : sn.getValue()) {
                    out.add(plain(n, where));
                }
                yield out;
            }
            default -> {
                String v = scalar(node, where);
                org.yaml.snakeyaml.nodes.Tag tag = node.getTag();
                if (tag.equals(org.yaml.snakeyaml.nodes.Tag.BOOL)) {
                    yield Boolean.parseBoolean(v.toLowerCase(java.util.Locale.ROOT));
                } else if (tag.equals(org.yaml.snakeyaml.nodes.Tag.INT)) {
                    yield Long.parseLong(v.replace("_", "")) <= Integer.MAX_VALUE ? (Object) Integer.parseInt(v.replace("_", ""))
                            : (Object) Long.parseLong(v.replace("_", ""));
                } else if (tag.equals(org.yaml.snakeyaml.nodes.Tag.FLOAT)) {
                    yield Double.parseDouble(v);
                } else if (tag.equals(org.yaml.snakeyaml.nodes.Tag.NULL)) {
                    yield null;
                }
                yield v;
            }
        };
    }

    private List<DistributionConfig.Model> models(NodeTuple t, Map<String, List<DistributionConfig.Provider>> providers) {
        List<DistributionConfig.Model> models = new ArrayList<>();
        if (t == null) {
            return models;
        }
        int i = 0;
        for (Node n : sequence(t.getValueNode(), "models")) {
            String where = "models[" + i++ + "]";
            Map<String, NodeTuple> m = mapping(n, where, Set.of("model_id", "provider_id", "provider_model_id", "model_type", "routing", "metadata"));
            String providerId = required(m, "provider_id", where, n);
            boolean known = providers.values().stream().flatMap(List::stream).anyMatch(p -> p.id().equals(providerId));
            if (!known) {
                throw new ConfigException(file, line(m.get("provider_id").getValueNode()), where + ".provider_id",
                        "no provider '" + providerId + "' is configured");
            }
            String id = required(m, "model_id", where, n);
            io.corral.spi.ModelType type = null;
            if (m.containsKey("model_type")) {
                try {
                    type = io.corral.spi.ModelType.parse(text(m, "model_type", where, "llm"));
                } catch (io.corral.api.InvalidRequestException e) {
                    throw new ConfigException(file, line(m.get("model_type").getValueNode()), where + ".model_type",
                            "must be llm or embedding, was '" + text(m, "model_type", where, "") + "'");
                }
            }
            int dimension = 0;
            if (m.containsKey("metadata")) {
                Map<String, NodeTuple> meta = mapping(m.get("metadata").getValueNode(), where + ".metadata", null);
                dimension = integer(meta, "embedding_dimension", where + ".metadata", 0);
            }
            models.add(new DistributionConfig.Model(id, providerId, text(m, "provider_model_id", where, id),
                    text(m, "routing", where, null), type, dimension, line(n)));
        }
        return models;
    }

    // ---- binding a config: section to its provider's record ----

    /** Binds {@code node} (a mapping, or null for none) to {@code type}, each component a snake_case key. */
    private <C extends Record> C bind(Node node, Class<C> type, String where) {
        RecordComponent[] components = type.getRecordComponents();
        Map<String, RecordComponent> byKey = new LinkedHashMap<>();
        for (RecordComponent c : components) {
            byKey.put(snake(c.getName()), c);
        }
        Set<String> unused = unusedLlamaStackKeys(type);
        Set<String> allowed = new java.util.HashSet<>(byKey.keySet());
        allowed.addAll(unused);
        Map<String, NodeTuple> m = node == null ? Map.of() : mapping(node, where, allowed);
        for (String key : m.keySet()) {
            if (unused.contains(key)) {
                ignored.add(where + "." + key); // a Llama Stack provider's key Corral has no use for
            }
        }
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            NodeTuple t = m.get(snake(c.getName()));
            types[i] = c.getType();
            args[i] = t == null ? absent(c.getType()) : value(t.getValueNode(), c.getGenericType(), where + "." + snake(c.getName()));
        }
        try {
            var constructor = type.getDeclaredConstructor(types);
            constructor.setAccessible(true);
            return constructor.newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            String param = cause instanceof io.corral.api.InvalidRequestException ire ? ire.param() : null;
            NodeTuple at = param == null ? null : m.get(param);
            throw new ConfigException(file, at != null ? line(at.getValueNode()) : node == null ? 1 : line(node),
                    at != null ? where + "." + param : where, String.valueOf(cause.getMessage()));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make " + type.getName() + ": " + e, e);
        }
    }

    /**
     * The keys of the Llama Stack provider a config record stands for that Corral does not read: its
     * {@code public static final Set<String> LLAMA_STACK_UNUSED}, or none.
     */
    @SuppressWarnings("unchecked")
    private static Set<String> unusedLlamaStackKeys(Class<?> type) {
        try {
            return (Set<String>) type.getField("LLAMA_STACK_UNUSED").get(null);
        } catch (NoSuchFieldException | IllegalAccessException | ClassCastException e) {
            return Set.of();
        }
    }

    private static Object absent(Class<?> type) {
        if (type == int.class) {
            return 0;
        } else if (type == long.class) {
            return 0L;
        } else if (type == double.class) {
            return 0.0;
        } else if (type == boolean.class) {
            return false;
        }
        return null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object value(Node node, java.lang.reflect.Type generic, String where) {
        Class<?> raw = generic instanceof java.lang.reflect.ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) generic;
        if (raw == List.class) { // a list, or one comma-separated value (as ${env.X:=a,b} gives)
            List<String> items = new ArrayList<>();
            if (node instanceof SequenceNode) {
                for (Node item : sequence(node, where)) {
                    items.add(scalar(item, where));
                }
            } else {
                for (String part : scalar(node, where).split(",")) {
                    if (!part.isBlank()) {
                        items.add(part.strip());
                    }
                }
            }
            return List.copyOf(items);
        }
        if (raw == Map.class) {
            Map<String, String> values = new LinkedHashMap<>();
            mapping(node, where, null).forEach((k, t) -> values.put(k, scalar(t.getValueNode(), where + "." + k)));
            return Map.copyOf(values);
        }
        if (raw.isRecord()) {
            return bind(node, (Class<? extends Record>) raw, where);
        }
        String v = scalar(node, where).strip();
        if (v.isEmpty()) {
            return absent(raw);
        }
        try {
            if (raw == String.class) {
                return v;
            } else if (raw == int.class || raw == Integer.class) {
                return Integer.parseInt(v);
            } else if (raw == long.class || raw == Long.class) {
                return Long.parseLong(v);
            } else if (raw == double.class || raw == Double.class) {
                return Double.parseDouble(v);
            } else if (raw == boolean.class || raw == Boolean.class) {
                return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                    case "true", "yes", "on" -> true;
                    case "false", "no", "off" -> false;
                    default -> throw new ConfigException(file, line(node), where, "must be true or false, was '" + v + "'");
                };
            } else if (raw == Path.class) {
                return Path.of(v.replaceFirst("^~(?=/|$)", System.getProperty("user.home")));
            } else if (raw.isEnum()) {
                for (Object c : raw.getEnumConstants()) {
                    if (((Enum) c).name().equalsIgnoreCase(v.replace('-', '_'))) {
                        return c;
                    }
                }
                throw new ConfigException(file, line(node), where, "unknown value '" + v + "'");
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(file, line(node), where, (raw == double.class || raw == Double.class
                    ? "must be a number" : "must be a whole number") + ", was '" + v + "'");
        }
        throw new IllegalStateException(where + ": configuration of type " + raw.getName() + " is not supported");
    }

    /** {@code contextSize} → {@code context_size}. */
    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    // ---- node helpers: every failure says where ----

    private Map<String, NodeTuple> mapping(Node node, String where, Set<String> allowed) {
        if (!(node instanceof MappingNode mn)) {
            throw new ConfigException(file, line(node), where, "must be a mapping (key: value lines)");
        }
        Map<String, NodeTuple> m = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            String key = scalar(t.getKeyNode(), where);
            if (allowed != null && !allowed.contains(key)) {
                throw new ConfigException(file, line(t.getKeyNode()), where.equals("(top level)") ? key : where + "." + key,
                        "unknown key (expected one of " + new java.util.TreeSet<>(allowed) + ")");
            }
            if (t.getValueNode() instanceof ScalarNode v && v.getTag().equals(org.yaml.snakeyaml.nodes.Tag.NULL)) {
                continue; // "key: null" (or nothing) is the same as leaving the key out
            }
            m.put(key, t);
        }
        return m;
    }

    private List<Node> sequence(Node node, String where) {
        if (!(node instanceof SequenceNode sn)) {
            throw new ConfigException(file, line(node), where, "must be a list (lines starting with '- ')");
        }
        return sn.getValue();
    }

    private String scalar(Node node, String where) {
        if (!(node instanceof ScalarNode sn)) {
            throw new ConfigException(file, line(node), where, "must be a single value");
        }
        return substitute(sn.getValue(), where, node);
    }

    private String substitute(String value, String where, Node node) {
        Matcher m = ENV.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String set = env.apply(name);
            String replacement;
            if (":=".equals(m.group(2)) || ":".equals(m.group(2))) { // ':' is older Llama Stack's spelling of ':='
                replacement = set == null || set.isEmpty() ? m.group(3) : set;
            } else if (":+".equals(m.group(2))) {
                replacement = set == null || set.isEmpty() ? "" : m.group(3);
            } else if (set == null) {
                throw new ConfigException(file, line(node), where, "environment variable " + name
                        + " is not set (write ${env." + name + ":=default} for a default)");
            } else {
                replacement = set;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private String required(Map<String, NodeTuple> m, String key, String where, Node parent) {
        if (!m.containsKey(key)) {
            throw new ConfigException(file, line(parent), where + "." + key, "is required");
        }
        String v = scalar(m.get(key).getValueNode(), where + "." + key);
        if (v.isBlank()) {
            throw new ConfigException(file, line(m.get(key).getValueNode()), where + "." + key, "must not be empty");
        }
        return v;
    }

    private String text(Map<String, NodeTuple> m, String key, String where, String fallback) {
        return m.containsKey(key) ? scalar(m.get(key).getValueNode(), where + "." + key) : fallback;
    }

    private int positive(Map<String, NodeTuple> m, String key, String where, int fallback) {
        int v = integer(m, key, where, fallback);
        if (v <= 0) {
            throw new ConfigException(file, line(m.get(key).getValueNode()), where + "." + key, "must be more than 0, was " + v);
        }
        return v;
    }

    private int integer(Map<String, NodeTuple> m, String key, String where, int fallback) {
        String v = text(m, key, where, null);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(file, line(m.get(key).getValueNode()), where + "." + key,
                    "must be a whole number, was '" + v + "'");
        }
    }

    private boolean bool(Map<String, NodeTuple> m, String key, String where, boolean fallback) {
        String v = text(m, key, where, null);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return switch (v.trim().toLowerCase()) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(file, line(m.get(key).getValueNode()), where + "." + key,
                    "must be true or false, was '" + v + "'");
        };
    }

    private static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }
}
