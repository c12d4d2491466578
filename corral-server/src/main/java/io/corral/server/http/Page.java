package io.corral.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * One page of an OpenAI list: {@code order} ({@code desc}, the default, or {@code asc}), {@code limit}, and the
 * cursors {@code after} and {@code before} (ids in the list); answered as {@code {object: "list", data, first_id,
 * last_id, has_more}}.
 */
public final class Page {

    private Page() {
    }

    /**
     * @param newestFirst every item, newest first
     */
    public static <T> ObjectNode of(Request req, List<T> newestFirst, Function<T, String> id, Function<T, JsonNode> json,
                                    int defaultLimit, int maxLimit) {
        return of(req, newestFirst, id, json, defaultLimit, maxLimit, "desc");
    }

    /** The same, {@code defaultOrder} ({@code asc} or {@code desc}) when the request names none. */
    public static <T> ObjectNode of(Request req, List<T> newestFirst, Function<T, String> id, Function<T, JsonNode> json,
                                    int defaultLimit, int maxLimit, String defaultOrder) {
        String order = req.query("order") == null ? defaultOrder : req.query("order");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.badRequest("order", "order must be asc or desc");
        }
        int limit;
        try {
            limit = req.query("limit") == null ? defaultLimit : Integer.parseInt(req.query("limit"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > maxLimit) {
            throw ApiException.badRequest("limit", "limit must be a whole number from 1 to " + maxLimit);
        }
        List<T> all = new ArrayList<>(newestFirst);
        if (order.equals("asc")) {
            Collections.reverse(all);
        }
        int from = 0;
        int to = all.size();
        String after = req.query("after");
        if (after != null && !after.isBlank()) {
            from = index(all, id, after, "after") + 1;
        }
        String before = req.query("before");
        if (before != null && !before.isBlank()) {
            to = index(all, id, before, "before");
        }
        List<T> page;
        boolean more;
        if (before != null && !before.isBlank() && (after == null || after.isBlank())) {
            // the items just before the cursor
            int start = Math.max(from, to - limit);
            page = all.subList(start, Math.max(start, to));
            more = start > from;
        } else {
            page = all.subList(Math.min(from, to), Math.max(Math.min(from, to), Math.min(to, from + limit)));
            more = from + page.size() < to;
        }
        ObjectNode o = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        page.forEach(item -> data.add(json.apply(item)));
        o.put("first_id", page.isEmpty() ? null : id.apply(page.getFirst()));
        o.put("last_id", page.isEmpty() ? null : id.apply(page.getLast()));
        o.put("has_more", more);
        return o;
    }

    private static <T> int index(List<T> all, Function<T, String> id, String cursor, String param) {
        for (int i = 0; i < all.size(); i++) {
            if (id.apply(all.get(i)).equals(cursor)) {
                return i;
            }
        }
        throw ApiException.badRequest(param, "no item '" + cursor + "' in this list");
    }
}
