package io.corral.onnx;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EmbeddingRequest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Documents per second of the in-process embeddings (all-MiniLM-L6-v2) on the Cranfield abstracts: the whole
 * collection in requests of {@code per} documents, after a warm-up, {@code runs} times.
 *   java ... io.corral.onnx.EmbeddingBench ../shared/data/ir/cranfield/corpus.jsonl [per request] [runs]
 */
public final class EmbeddingBench {

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> docs = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (!line.isBlank()) {
                var d = json.readTree(line);
                docs.add((d.path("title").asText("") + " " + d.path("text").asText("")).strip());
            }
        }
        int per = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        try (OnnxEmbeddings e = new OnnxEmbeddings("bench")) {
            e.embed(new EmbeddingRequest(null, docs.subList(0, Math.min(100, docs.size())))); // load and warm up
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                long tokens = 0;
                for (int i = 0; i < docs.size(); i += per) {
                    tokens += e.embed(new EmbeddingRequest(null, docs.subList(i, Math.min(docs.size(), i + per)))).promptTokens();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("run %d: %d documents (%d tokens) in %.1f s: %.0f documents/s on %d cores%n",
                        r + 1, docs.size(), tokens, s, docs.size() / s, Runtime.getRuntime().availableProcessors());
            }
        }
    }
}
