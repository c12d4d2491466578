package io.corral.llamacpp;

import io.corral.api.TokenLogprob;
import io.corral.llamacpp.ffi.NativeModel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Log-probabilities from raw logits: a log-softmax, and the top alternatives by a partial selection. */
final class Logprobs {

    private Logprobs() {
    }

    static TokenLogprob of(NativeModel model, float[] logits, int chosen, int top) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double logZ = max + Math.log(sum);
        List<TokenLogprob> alternatives = new ArrayList<>();
        for (int id : topIds(logits, top)) {
            alternatives.add(token(model, id, logits[id] - logZ, List.of()));
        }
        return token(model, chosen, logits[chosen] - logZ, alternatives);
    }

    private static TokenLogprob token(NativeModel model, int id, double logprob, List<TokenLogprob> top) {
        byte[] bytes = model.piece(id);
        return new TokenLogprob(new String(bytes, StandardCharsets.UTF_8), bytes, logprob, top);
    }

    /** The ids of the {@code n} largest logits, largest first. */
    static int[] topIds(float[] logits, int n) {
        int[] best = new int[Math.min(n, logits.length)];
        int size = 0;
        for (int id = 0; id < logits.length; id++) {
            if (size < best.length) {
                best[size++] = id;
            } else if (best.length > 0 && logits[id] > logits[best[size - 1]]) {
                best[size - 1] = id;
            } else {
                continue;
            }
            for (int i = size - 1; i > 0 && logits[best[i]] > logits[best[i - 1]]; i--) {
                int t = best[i];
                best[i] = best[i - 1];
                best[i - 1] = t;
            }
        }
        return best;
    }
}
