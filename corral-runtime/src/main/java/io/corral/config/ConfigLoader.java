package io.corral.config;

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
 * and {@code ${env.NAME:+value}} (value when NAME is set, else empty). Every problem is a
 * {@link ConfigException} naming the file, the line and the key.
 */
public final class ConfigLoader {

    private static final Pattern ENV = Pattern.compile("\\$\\{env\\.([A-Za-z_][A-Za-z0-9_]*)(?:(:=|:\\+)([^}]*))?}");
    private static final Set<String> TOP = Set.of("version", "image_name", "apis", "server", "providers", "models");
    private static final Set<String> SERVER = Set.of("host", "port", "allow_remote", "api_keys", "max_body_bytes",
            "max_queued", "routing", "health_interval", "idle_timeout", "trusted_proxies", "max_input_tokens");
    private static final Set<String> APIS = Set.of("inference", "vector_io", "safety", "telemetry", "tool_runtime", "agents");

    private final String file;
    private final Function<String, String> env;

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
        Map<String, NodeTuple> top = mapping(root, "(top level)", TOP);
        DistributionConfig.Server server = server(top.get("server"));
        Map<String, List<DistributionConfig.Provider>> providers = providers(top.get("providers"));
        List<DistributionConfig.Model> models = models(top.get("models"), providers);
        if (providers.getOrDefault("inference", List.of()).isEmpty()) {
            throw new ConfigException(file, line(root), "providers.inference", "at least one inference provider is needed");
        }
        return new DistributionConfig(server, providers, models);
    }

    private DistributionConfig.Server server(NodeTuple t) {
        Map<String, NodeTuple> m = t == null ? Map.of() : mapping(t.getValueNode(), "server", SERVER);
        return new DistributionConfig.Server(text(m, "host", "server", "127.0.0.1"),
                integer(m, "port", "server", 8321), bool(m, "allow_remote", "server", false), strings(m, "api_keys"),
                integer(m, "max_body_bytes", "server", 8 << 20), integer(m, "max_queued", "server", 32),
                text(m, "routing", "server", "local-first"), integer(m, "health_interval", "server", 15),
                positive(m, "idle_timeout", "server", 300), strings(m, "trusted_proxies"),
                positive(m, "max_input_tokens", "server", 300_000));
    }

    /** A list of strings under {@code server.<key>}; blank entries (an unset variable) are left out. */
    private List<String> strings(Map<String, NodeTuple> m, String key) {
        List<String> values = new ArrayList<>();
        if (m.containsKey(key)) {
            for (Node k : sequence(m.get(key).getValueNode(), "server." + key)) {
                String v = scalar(k, "server." + key);
                if (!v.isBlank()) {
                    values.add(v);
                }
            }
        }
        return values;
    }

    private Map<String, List<DistributionConfig.Provider>> providers(NodeTuple t) {
        if (t == null) {
            throw new ConfigException(file, 1, "providers", "is required (providers.inference lists the inference providers)");
        }
        Map<String, List<DistributionConfig.Provider>> all = new LinkedHashMap<>();
        Set<String> ids = new java.util.HashSet<>();
        for (var api : mapping(t.getValueNode(), "providers", APIS).entrySet()) {
            List<DistributionConfig.Provider> list = new ArrayList<>();
            int i = 0;
            for (Node p : sequence(api.getValue().getValueNode(), "providers." + api.getKey())) {
                String where = "providers." + api.getKey() + "[" + i++ + "]";
                Map<String, NodeTuple> m = mapping(p, where, Set.of("provider_id", "provider_type", "config"));
                String id = required(m, "provider_id", where, p);
                String type = required(m, "provider_type", where, p);
                if (!ids.add(id)) {
                    throw new ConfigException(file, line(m.get("provider_id").getValueNode()), where + ".provider_id",
                            "'" + id + "' is used twice");
                }
                Map<String, String> config = new LinkedHashMap<>();
                if (m.containsKey("config")) {
                    for (var c : mapping(m.get("config").getValueNode(), where + ".config", null).entrySet()) {
                        Node v = c.getValue().getValueNode();
                        String key = where + ".config." + c.getKey();
                        if (v instanceof org.yaml.snakeyaml.nodes.SequenceNode) { // a list of values, e.g. sinks: [otel_trace, sqlite]
                            List<String> items = new ArrayList<>();
                            for (Node item : sequence(v, key)) {
                                items.add(scalar(item, key));
                            }
                            config.put(c.getKey(), String.join(",", items));
                        } else {
                            config.put(c.getKey(), scalar(v, key));
                        }
                    }
                }
                config.put("provider_type", type);
                list.add(new DistributionConfig.Provider(id, type, config, line(m.get("provider_type").getValueNode())));
            }
            all.put(api.getKey(), list);
        }
        return all;
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
            if (":=".equals(m.group(2))) {
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
