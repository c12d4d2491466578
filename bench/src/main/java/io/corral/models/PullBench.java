package io.corral.models;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A pull from a local server against curl fetching the same file, alternated: the seconds of each, and the
 * ratio of their throughputs, over all rounds and over the rounds after the first (which pays the JVM's start). Corral's
 * pull also writes the file whole and checks its sha256.
 *
 * <pre>bench/pull.sh</pre>
 */
public final class PullBench {

    /** The last round's file is written out before the next is timed, so neither client pays for the other's writes. */
    private static void sync() throws Exception {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int rounds = Integer.parseInt(args.length > 1 ? args[1] : "3");
        long size = 0;
        double pullSecs = 0;
        double curlSecs = 0;
        double firstPull = 0;
        double firstCurl = 0;
        for (int i = 0; i < rounds; i++) {
            Path dir = Files.createTempDirectory("pull-bench");
            sync();
            long t0 = System.nanoTime();
            long[] firstMiB = {0};
            ModelStore.Model m = new Puller(new ModelStore(dir), null, null, io.corral.api.UrlPolicy.ANY).pull(url, null, "bench",
                    p -> {
                        if (firstMiB[0] == 0) {
                            firstMiB[0] = System.nanoTime();
                        }
                    });
            double took = (System.nanoTime() - t0) / 1e9;
            pullSecs += took;
            size = m.size();
            Files.delete(m.file());
            sync();
            long t1 = System.nanoTime();
            Process curl = new ProcessBuilder("curl", "-sf", "-o", dir.resolve("curl.bin").toString(), url).inheritIO().start();
            if (curl.waitFor() != 0) {
                throw new IllegalStateException("curl failed");
            }
            double curlTook = (System.nanoTime() - t1) / 1e9;
            curlSecs += curlTook;
            System.out.printf("  round %d: corral pull %.2f s (its first MiB in at %.2f s), curl %.2f s%n", i + 1, took,
                    (firstMiB[0] - t0) / 1e9, curlTook);
            if (i == 0) {
                firstPull = took;
                firstCurl = curlTook;
            }
            Files.delete(dir.resolve("curl.bin"));
        }
        double mib = size / (double) (1 << 20);
        System.out.printf("pull of %.0f MiB from a local server, %d rounds alternated: corral pull %.2f s (%.0f MiB/s, sha256 and "
                        + "the move into place included), curl %.2f s (%.0f MiB/s); corral/curl throughput %.2fx%n", mib, rounds,
                pullSecs / rounds, mib * rounds / pullSecs, curlSecs / rounds, mib * rounds / curlSecs, curlSecs / pullSecs);
        if (rounds > 1) { // the first round pays the JVM's start (class loading, the JIT): the rest is the transfer
            System.out.printf("rounds 2-%d (the JVM warm): corral pull %.2f s, curl %.2f s; corral/curl throughput %.2fx%n", rounds,
                    (pullSecs - firstPull) / (rounds - 1), (curlSecs - firstCurl) / (rounds - 1), (curlSecs - firstCurl) / (pullSecs - firstPull));
        }
    }
}
