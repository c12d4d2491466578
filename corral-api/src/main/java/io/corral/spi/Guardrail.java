package io.corral.spi;

import io.corral.api.ChatMessage;
import io.corral.api.ChatResult;

import java.util.List;

/**
 * A check on what goes into a model and what comes out of it, run by the server's request path for every
 * API that generates (safety shields plug in here). The input check runs before the request takes an
 * engine slot; a refusal is a {@link io.corral.api.ContentBlockedException}. Requests for a model it
 * guards are always decoded (never forwarded as bytes), so it can read them.
 */
public interface Guardrail {

    /** Guards nothing. */
    Guardrail NONE = new Guardrail() {
        public boolean guards(String model) { return false; }
        public void input(String model, List<ChatMessage> messages) { }
        public void output(String model, ChatResult result) { }
    };

    /** Whether requests for {@code model} are checked. */
    boolean guards(String model);

    /** Refuses a request by throwing {@link io.corral.api.ContentBlockedException}. */
    void input(String model, List<ChatMessage> messages);

    /** Withholds an answer by throwing {@link io.corral.api.ContentBlockedException}. */
    void output(String model, ChatResult result);
}
