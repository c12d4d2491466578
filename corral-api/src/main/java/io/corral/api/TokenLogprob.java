package io.corral.api;

import java.util.List;

/**
 * The log-probability the model gave a generated token, with its most likely alternatives at that
 * position (from the model's own distribution, before sampling settings).
 *
 * @param token the token's text (a piece of a character when the character spans tokens)
 * @param bytes the token's UTF-8 bytes
 */
public record TokenLogprob(String token, byte[] bytes, double logprob, List<TokenLogprob> top) {

    public TokenLogprob {
        top = List.copyOf(top);
    }
}
