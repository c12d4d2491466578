package io.corral.server.http;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The server's routes: a method and a path pattern ({@code /v1/models/{id}}) to a {@link Handler}. A path that matches with another method is
 * 405 with {@code Allow}; one that matches nothing is 404. Filled before the server starts, read-only after.
 */
public final class Routes {

    /** What an API family registers its routes with. */
    public interface Api {
        void routes(Routes routes);
    }

    /** A route, with whether its requests may be forwarded as bytes by the gateway. */
    public record Route(String method, String pattern, Handler handler, boolean forwardable) {
    }

    /** A pattern with parameters, split once into its segments. */
    private record Parameterised(Route route, String[] segments) {
    }

    /** A path matched: the route, or the methods the path allows (for 405), and the path's parameters. */
    public record Match(Route route, Set<String> allowed, Map<String, String> params) {
    }

    private final List<Route> routes = new ArrayList<>();
    private final Map<String, Map<String, Route>> exact = new java.util.HashMap<>(); // path -> method -> route
    private final List<Parameterised> parameterised = new ArrayList<>();

    public Routes get(String pattern, Handler h) {
        return add("GET", pattern, h, false);
    }

    public Routes post(String pattern, Handler h) {
        return add("POST", pattern, h, false);
    }

    public Routes put(String pattern, Handler h) {
        return add("PUT", pattern, h, false);
    }

    public Routes delete(String pattern, Handler h) {
        return add("DELETE", pattern, h, false);
    }

    /** A POST route whose requests the gateway may forward as they are (OpenAI inference). */
    public Routes forwardable(String pattern, Handler h) {
        return add("POST", pattern, h, true);
    }

    public Routes add(Api api) {
        api.routes(this);
        return this;
    }

    private Routes add(String method, String pattern, Handler h, boolean forwardable) {
        if (!pattern.startsWith("/")) {
            throw new IllegalArgumentException("a route pattern starts with /: " + pattern);
        }
        for (Route r : routes) {
            if (r.method().equals(method) && r.pattern().equals(pattern)) {
                throw new IllegalStateException("route " + method + " " + pattern + " is registered twice");
            }
        }
        Route r = new Route(method, pattern, h, forwardable);
        routes.add(r);
        if (pattern.indexOf('{') < 0) {
            exact.computeIfAbsent(pattern, k -> new java.util.LinkedHashMap<>()).put(method, r);
        } else {
            parameterised.add(new Parameterised(r, pattern.substring(1).split("/")));
            parameterised.sort(java.util.Comparator.comparingInt((Parameterised p) -> -p.segments().length));
        }
        return this;
    }

    /** Every route, in the order registered (for {@code /v1/inspect/routes}). */
    public List<Route> all() {
        return List.copyOf(routes);
    }

    /**
     * The route for {@code method} and {@code path}, or none with the methods the path allows (empty: 404).
     * A fixed path is one map look-up; where several patterns match, the one with the most segments wins
     * ({@code /traces/{id}/spans/{span}} before {@code /traces/{id}}).
     */
    public Match match(String method, String path) {
        Map<String, Route> fixed = exact.get(path);
        if (fixed != null) {
            Route r = fixed.get(method);
            return r != null ? new Match(r, Set.of(), Map.of()) : new Match(null, fixed.keySet(), Map.of());
        }
        Set<String> allowed = new LinkedHashSet<>();
        String[] have = null;
        for (Parameterised p : parameterised) { // most segments first
            if (have == null) {
                have = path.length() > 1 ? path.substring(1).split("/", -1) : new String[]{""};
            }
            Map<String, String> params = params(p.segments(), have);
            if (params == null) {
                continue;
            }
            if (p.route().method().equals(method)) {
                return new Match(p.route(), Set.of(), params);
            }
            allowed.add(p.route().method());
        }
        return new Match(null, allowed, Map.of());
    }

    /**
     * The parameters when {@code have} matches {@code want}, else null: a braced segment matches one
     * segment, or, as the pattern's last, all that is left (a model id may hold slashes); values are
     * percent-decoded.
     */
    private static Map<String, String> params(String[] want, String[] have) {
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < want.length; i++) {
            if (i >= have.length) {
                return null;
            }
            String w = want[i];
            if (w.startsWith("{")) {
                boolean last = i == want.length - 1;
                String value = last ? String.join("/", java.util.Arrays.copyOfRange(have, i, have.length)) : have[i];
                if (value.isEmpty()) {
                    return null;
                }
                params.put(w.substring(1, w.length() - 1), QueryStringDecoder.decodeComponent(value));
                if (last) {
                    return params;
                }
            } else if (!w.equals(have[i])) {
                return null;
            }
        }
        return want.length == have.length ? params : null;
    }
}
