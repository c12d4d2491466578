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

    /** A path matched: the route, or the methods the path allows (for 405), and the path's parameters. */
    public record Match(Route route, Set<String> allowed, Map<String, String> params) {
    }

    private final List<Route> routes = new ArrayList<>();

    public Routes get(String pattern, Handler h) {
        return add("GET", pattern, h, false);
    }

    public Routes post(String pattern, Handler h) {
        return add("POST", pattern, h, false);
    }

    /** A POST route whose requests the gateway may forward as they are (OpenAI inference). */
    public Routes forwardable(String pattern, Handler h) {
        return add("POST", pattern, h, true);
    }

    public Routes delete(String pattern, Handler h) {
        return add("DELETE", pattern, h, false);
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
        routes.add(new Route(method, pattern, h, forwardable));
        return this;
    }

    /** Every route, in the order registered (for {@code /v1/inspect/routes}). */
    public List<Route> all() {
        return List.copyOf(routes);
    }

    /**
     * The route for {@code method} and {@code path}, or none with the methods the path allows (empty: 404).
     * Where several patterns match, the one with the most segments wins ({@code /traces/{id}/spans/{span}}
     * before {@code /traces/{id}}).
     */
    public Match match(String method, String path) {
        Set<String> allowed = new LinkedHashSet<>();
        Match best = null;
        int bestSegments = -1;
        for (Route r : routes) {
            Map<String, String> params = params(r.pattern(), path);
            if (params == null) {
                continue;
            }
            int segments = r.pattern().split("/").length;
            if (r.method().equals(method) && segments > bestSegments) {
                best = new Match(r, Set.of(), params);
                bestSegments = segments;
            } else if (!r.method().equals(method)) {
                allowed.add(r.method());
            }
        }
        return best != null ? best : new Match(null, allowed, Map.of());
    }

    /**
     * The parameters when {@code path} matches {@code pattern}, else null: a braced segment matches one
     * segment, or, as the pattern's last, all that is left (a model id may hold slashes); values are
     * percent-decoded.
     */
    private static Map<String, String> params(String pattern, String path) {
        if (pattern.indexOf('{') < 0) {
            return pattern.equals(path) ? Map.of() : null;
        }
        String[] want = pattern.substring(1).split("/");
        String[] have = path.substring(1).split("/", -1);
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < want.length; i++) {
            if (i >= have.length) {
                return null;
            }
            String w = want[i];
            if (w.startsWith("{")) {
                String value = i == want.length - 1 ? String.join("/", java.util.Arrays.copyOfRange(have, i, have.length)) : have[i];
                if (value.isEmpty()) {
                    return null;
                }
                params.put(w.substring(1, w.length() - 1), QueryStringDecoder.decodeComponent(value));
                if (i == want.length - 1) {
                    return params;
                }
            } else if (!w.equals(have[i])) {
                return null;
            }
        }
        return want.length == have.length ? params : null;
    }
}
