package io.corral.testing;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The messages one logger receives while some work runs (the access log, for tests that read it). */
public final class LogLines {

    private LogLines() {
    }

    public static List<String> during(String logger, Callable<?> work) throws Exception {
        return during(logger, work, lines -> true);
    }

    /**
     * The messages received while {@code work} runs and after it, until {@code complete} holds of them (at most
     * 10 s): for lines written just after an answer has gone out (a server logs a request once its client has it).
     */
    public static List<String> during(String logger, Callable<?> work, Predicate<List<String>> complete) throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Object arrived = new Object();
        Handler h = new Handler() {
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
                synchronized (arrived) {
                    arrived.notifyAll();
                }
            }
            public void flush() { }
            public void close() { }
        };
        Logger log = Logger.getLogger(logger);
        log.addHandler(h);
        try {
            work.call();
            long deadline = System.nanoTime() + 10_000_000_000L;
            synchronized (arrived) {
                while (!complete.test(lines) && System.nanoTime() < deadline) {
                    arrived.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
            }
        } finally {
            log.removeHandler(h);
        }
        return lines;
    }
}
