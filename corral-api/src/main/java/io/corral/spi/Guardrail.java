package io.corral.spi;

import io.corral.api.ChatMessage;

import java.util.List;

/**
 * Checks on what goes into a model and what comes out of it, run by the server's request path for every API
 * that generates, and by the library around a provider. The input check runs before the request takes an engine
 * slot; a refusal is a {@link io.corral.api.ContentBlockedException}. The output is checked as it grows: a
 * violation stops the generation, which ends with {@link io.corral.api.FinishReason#CONTENT_FILTER} and the
 * shield's message. Requests for a model it guards, or that name guardrails of their own, are always decoded
 * (never forwarded as bytes), so it can read them.
 */
public interface Guardrail {

    /** Guards nothing and knows no shields. */
    Guardrail NONE = new Guardrail() {
        public boolean guards(String model) {
            return false;
        }

        public Checks checks(String model, List<String> requested) {
            if (!requested.isEmpty()) {
                throw new io.corral.api.InvalidRequestException("guardrails", "no shields are registered on this server");
            }
            return Checks.NONE;
        }
    };

    /** Whether requests for {@code model} are checked by configuration (then none is forwarded as bytes). */
    boolean guards(String model);

    /**
     * The checks of one request: the model's configured input and output shields, and the shields the request
     * names ({@code guardrails}: each on input and output). An unknown shield is an
     * {@link io.corral.api.InvalidRequestException} naming {@code guardrails}.
     */
    Checks checks(String model, List<String> requested);

    /** The checks of one request. */
    interface Checks {
        Checks NONE = new Checks() {
            public boolean any() {
                return false;
            }

            public void input(List<ChatMessage> messages) {
            }

            public InferenceProvider output(InferenceProvider provider) {
                return provider;
            }
        };

        /** Whether there is anything to check. */
        boolean any();

        /** Checks the request's messages; a violation is a {@link io.corral.api.ContentBlockedException}. */
        void input(List<ChatMessage> messages);

        /**
         * {@code provider} with its answers checked: whole answers at their end, streams window by window (each
         * held back until checked, unless the configuration streams first), a violation ending the answer with
         * {@code content_filter} and the shield's message instead of what it found.
         */
        InferenceProvider output(InferenceProvider provider);
    }
}
