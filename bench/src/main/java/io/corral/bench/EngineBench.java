package io.corral.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.llamacpp.ffi.NativeContext;
import io.corral.llamacpp.ffi.NativeModel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prompt processing (pp) and generation (tg) speed of the in-process engine, measured as llama-bench
 * measures them: pp = one batch of N prompt tokens into an empty cache; tg = M single-token decodes
 * from an empty cache. When {@code llama-bench} is on the PATH, it runs in the same session,
 * interleaved with ours, and the table shows the ratio.
 *
 * <p>Usage: {@code EngineBench MODEL.gguf [threads] [pp tokens] [tg tokens] [repetitions]}
 */
public final class EngineBench {

    record Speed(double pp, double tg) {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        int pp = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int tg = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int reps = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        boolean native_ = onPath("llama-bench");

        List<Speed> ours = new ArrayList<>();
        List<Speed> theirs = new ArrayList<>();
        try (NativeModel m = NativeModel.load(model);
             NativeContext ctx = new NativeContext(m, pp + tg, pp, threads)) {
            System.err.printf("model %s (%s), %d threads, pp%d, tg%d, %d reps%s%n", model.getFileName(),
                    m.description(), threads, pp, tg, reps, native_ ? ", llama-bench on PATH" : "");
            run(ctx, m, pp, tg); // warm-up
            for (int r = 0; r < reps; r++) {
                ours.add(run(ctx, m, pp, tg));
                if (native_) {
                    theirs.add(llamaBench(model, threads, pp, tg));
                }
                System.err.printf("rep %d: corral pp %.1f tg %.2f%s%n", r + 1, ours.getLast().pp(), ours.getLast().tg(),
                        native_ ? "  llama-bench pp %.1f tg %.2f".formatted(theirs.getLast().pp(), theirs.getLast().tg()) : "");
            }
        }
        Speed a = median(ours);
        System.out.printf("| test | corral tok/s | llama-bench tok/s | ratio |%n|---|---|---|---|%n");
        if (native_) {
            Speed b = median(theirs);
            System.out.printf("| pp%d | %.1f | %.1f | %.3f |%n", pp, a.pp(), b.pp(), a.pp() / b.pp());
            System.out.printf("| tg%d | %.2f | %.2f | %.3f |%n", tg, a.tg(), b.tg(), a.tg() / b.tg());
        } else {
            System.out.printf("| pp%d | %.1f | - | - |%n| tg%d | %.2f | - | - |%n", pp, a.pp(), tg, a.tg());
        }
    }

    /** One pp and one tg measurement through our binding. */
    static Speed run(NativeContext ctx, NativeModel m, int pp, int tg) {
        SplittableRandom random = new SplittableRandom(1);
        int[] prompt = random.ints(pp, 259, m.vocabSize()).toArray();
        ctx.clear();
        long t0 = System.nanoTime();
        ctx.decode(prompt, 0, pp, 0);
        ctx.lastLogits(); // wait for the result, as llama-bench does
        long t1 = System.nanoTime();
        ctx.clear();
        long t2 = System.nanoTime();
        int token = 1;
        for (int i = 0; i < tg; i++) {
            ctx.decodeOne(token, i);
            token = 259 + random.nextInt(m.vocabSize() - 259);
        }
        ctx.lastLogits();
        long t3 = System.nanoTime();
        return new Speed(pp / ((t1 - t0) / 1e9), tg / ((t3 - t2) / 1e9));
    }

    static Speed llamaBench(Path model, int threads, int pp, int tg) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("llama-bench", "-m", model.toString(), "-t", Integer.toString(threads),
                "-p", Integer.toString(pp), "-n", Integer.toString(tg), "-r", "1", "-o", "json")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("llama-bench failed: " + out);
        }
        double ppSpeed = 0;
        double tgSpeed = 0;
        for (JsonNode test : new ObjectMapper().readTree(out)) {
            if (test.get("n_prompt").asInt() > 0) {
                ppSpeed = test.get("avg_ts").asDouble();
            } else {
                tgSpeed = test.get("avg_ts").asDouble();
            }
        }
        return new Speed(ppSpeed, tgSpeed);
    }

    static Speed median(List<Speed> speeds) {
        double[] pp = speeds.stream().mapToDouble(Speed::pp).sorted().toArray();
        double[] tg = speeds.stream().mapToDouble(Speed::tg).sorted().toArray();
        return new Speed(pp[pp.length / 2], tg[tg.length / 2]);
    }

    static boolean onPath(String program) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Path.of(d, program).toFile().canExecute());
    }
}
