package io.corral.spi;

import java.util.List;
import java.util.Map;

/**
 * OpenAI's Responses and Conversations APIs, as Llama Stack serves them: a response runs the agent loop (model,
 * server-side tools, model, until an answer, a client tool call, {@code max_infer_iters} or a guardrail stops it) and
 * is stored with its input; a conversation is a list of items that responses append to. Requests, responses and
 * items are OpenAI's JSON as plain Java values (maps, lists, strings, numbers, booleans): that shape is the API's
 * contract, and this interface carries it without a JSON library. Every call names its {@code tenant} (as
 * {@link FilesProvider}): a caller sees only its own. What is not there is an {@link io.corral.api.NotFoundException}.
 */
public interface Responses extends AutoCloseable {

    /** A streamed response's events, in OpenAI's order, each its {@code type} and its JSON object (type included). */
    interface Events {
        void event(String type, Map<String, Object> event);
    }

    /** Creates a response: runs it, streaming its events to {@code events} (null: not streamed); returns it. */
    Map<String, Object> create(String tenant, Map<String, Object> request, Events events);

    Map<String, Object> get(String tenant, String id);

    /** Cancels a background response that is queued or running; returns it (status {@code cancelled}). */
    Map<String, Object> cancel(String tenant, String id);

    /** Deletes a stored response; returns OpenAI's deletion object. */
    Map<String, Object> delete(String tenant, String id);

    /** The input items of a response, newest first (the server pages lists). */
    List<Map<String, Object>> inputItems(String tenant, String id);

    /** Stored responses, newest first; {@code model} null for all. */
    List<Map<String, Object>> list(String tenant, String model);

    Map<String, Object> createConversation(String tenant, List<Map<String, Object>> items, Map<String, String> metadata);

    Map<String, Object> conversation(String tenant, String id);

    Map<String, Object> updateConversation(String tenant, String id, Map<String, String> metadata);

    Map<String, Object> deleteConversation(String tenant, String id);

    /** A conversation's items, newest first. */
    List<Map<String, Object>> items(String tenant, String conversationId);

    /** Appends items; returns them as stored (with their ids), in order. */
    List<Map<String, Object>> addItems(String tenant, String conversationId, List<Map<String, Object>> items);

    Map<String, Object> item(String tenant, String conversationId, String itemId);

    /** Removes an item; returns the conversation. */
    Map<String, Object> deleteItem(String tenant, String conversationId, String itemId);

    @Override
    void close();
}
