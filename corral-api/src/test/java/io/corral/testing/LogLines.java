package io.corral.testing;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The messages one logger receives while some work runs (the access log, for tests that read it). */
public final class LogLines {

    private LogLines() {
    }

    public static List<String> during(String logger, Callable<?> work) throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            public void publish(LogRecord r) { lines.add(r.getMessage()); }
            public void flush() { }
            public void close() { }
        };
        Logger log = Logger.getLogger(logger);
        log.addHandler(h);
        try {
            work.call();
        } finally {
            log.removeHandler(h);
        }
        return lines;
    }
}
