package io.corral.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.KeyValueStore;
import io.corral.spi.Prompts;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * {@link Prompts} in the state store: each version under {@code prompt/<tenant>/<id>/v/<n>}, the latest version's number
 * under {@code .../latest} (moved by compare-and-set, so of two updates naming the same version one wins and the other is
 * told to build on the new one, on one node or several) and the default's under {@code .../default}.
 */
public final class PromptStore implements Prompts {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Bounds on what a prompt holds. */
    private static final int MAX_TEXT = 100_000, MAX_VARIABLES = 64;

    private final KeyValueStore kv;

    public PromptStore(KeyValueStore kv) {
        this.kv = kv;
    }

    private static String base(String tenant, String id) {
        return "prompt/" + (tenant == null ? "-" : tenant) + "/" + id + "/";
    }

    private static void check(String text, List<String> variables) {
        if (text == null || text.isBlank()) {
            throw new InvalidRequestException("prompt", "prompt is required: the text, with {{ name }} for each variable");
        }
        if (text.length() > MAX_TEXT) {
            throw new InvalidRequestException("prompt", "prompt is over " + MAX_TEXT + " characters");
        }
        if (variables.size() > MAX_VARIABLES) {
            throw new InvalidRequestException("variables", "variables holds at most " + MAX_VARIABLES + " names");
        }
        for (String v : variables) {
            if (v == null || !v.matches("\\w+")) {
                throw new InvalidRequestException("variables", "a variable's name is letters, digits and '_', not '" + v + "'");
            }
        }
        Set<String> undeclared = new java.util.LinkedHashSet<>(Prompts.placeholders(text));
        undeclared.removeAll(variables);
        if (!undeclared.isEmpty()) {
            throw new InvalidRequestException("variables", "the prompt uses variables it does not declare: " + undeclared);
        }
    }

    private static String json(String text, List<String> variables) {
        ObjectNode o = Json.object().put("prompt", text);
        variables.forEach(o.putArray("variables")::add);
        return o.toString();
    }

    private Prompt read(String tenant, String id, int version, Integer defaultVersion) {
        JsonNode o = kv.get(base(tenant, id) + "v/" + version).map(Json::parse)
                .orElseThrow(() -> new NotFoundException("prompt_id", "no prompt " + id + " version " + version));
        List<String> variables = new ArrayList<>();
        o.path("variables").forEach(v -> variables.add(v.asText()));
        return new Prompt(id, version, o.path("prompt").asText(), variables, defaultVersion != null && defaultVersion == version);
    }

    private Integer defaultVersion(String tenant, String id) {
        return kv.get(base(tenant, id) + "default").map(Integer::valueOf).orElse(null);
    }

    @Override
    public Prompt create(String tenant, String text, List<String> variables) {
        List<String> vars = variables == null ? List.of() : variables;
        check(text, vars);
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        String id = "pmpt_" + HexFormat.of().formatHex(b);
        String base = base(tenant, id);
        kv.set(base + "v/1", json(text, vars));
        kv.set(base + "latest", "1");
        kv.set(base + "default", "1");
        return new Prompt(id, 1, text, vars, true);
    }

    @Override
    public Prompt get(String tenant, String id, Integer version) {
        Integer d = defaultVersion(tenant, id);
        if (d == null) {
            throw new NotFoundException("prompt_id", "no prompt " + id);
        }
        return read(tenant, id, version == null ? d : version, d);
    }

    @Override
    public List<Prompt> list(String tenant) {
        String prefix = "prompt/" + (tenant == null ? "-" : tenant) + "/";
        List<Prompt> out = new ArrayList<>();
        for (var e : kv.prefix(prefix)) {
            if (e.getKey().endsWith("/default")) {
                String id = e.getKey().substring(prefix.length(), e.getKey().length() - "/default".length());
                out.add(read(tenant, id, Integer.parseInt(e.getValue()), Integer.valueOf(e.getValue())));
            }
        }
        out.sort(Comparator.comparing(Prompt::id).reversed());
        return out;
    }

    @Override
    public List<Prompt> versions(String tenant, String id) {
        Integer d = defaultVersion(tenant, id);
        if (d == null) {
            throw new NotFoundException("prompt_id", "no prompt " + id);
        }
        List<Prompt> out = new ArrayList<>();
        String prefix = base(tenant, id) + "v/";
        for (var e : kv.prefix(prefix)) {
            out.add(read(tenant, id, Integer.parseInt(e.getKey().substring(prefix.length())), d));
        }
        out.sort(Comparator.comparingInt(Prompt::version));
        return out;
    }

    @Override
    public Prompt update(String tenant, String id, String text, int version, List<String> variables, boolean setDefault) {
        List<String> vars = variables == null ? List.of() : variables;
        check(text, vars);
        String base = base(tenant, id);
        String latest = kv.get(base + "latest").orElseThrow(() -> new NotFoundException("prompt_id", "no prompt " + id));
        int next = version + 1;
        if (Integer.parseInt(latest) != version || !kv.compareAndSet(base + "latest", latest, Integer.toString(next), null)) {
            throw new InvalidRequestException("version", "version " + version + " is not the latest of prompt " + id + " (that is "
                    + kv.get(base + "latest").orElse(latest) + "): an update builds on the latest");
        }
        kv.set(base + "v/" + next, json(text, vars));
        if (setDefault) {
            kv.set(base + "default", Integer.toString(next));
        }
        return new Prompt(id, next, text, vars, setDefault);
    }

    @Override
    public Prompt setDefault(String tenant, String id, int version) {
        Prompt p = read(tenant, id, version, version);
        kv.set(base(tenant, id) + "default", Integer.toString(version));
        return p;
    }

    @Override
    public void delete(String tenant, String id) {
        String base = base(tenant, id);
        if (defaultVersion(tenant, id) == null) {
            throw new NotFoundException("prompt_id", "no prompt " + id);
        }
        kv.delete(base + "default"); // first: the prompt is gone even if the rest is interrupted
        for (var e : kv.prefix(base)) {
            kv.delete(e.getKey());
        }
    }
}
