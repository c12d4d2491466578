package io.corral.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Log lines ({@code prefix + message}) gathered in a buffer and written out at most every {@code interval}
 * (and when the buffer fills), so a busy server's access log costs a write call per batch instead of one
 * per request. JUL's console handler flushes every line.
 */
final class BufferedLogHandler extends Handler {

    private static final int CAPACITY = 64 * 1024;

    private final OutputStream out;
    private final String prefix;
    private final byte[] buffer = new byte[CAPACITY];
    private int used;

    BufferedLogHandler(OutputStream out, String prefix, Duration interval) {
        this.out = out;
        this.prefix = prefix;
        Thread.ofPlatform().daemon().name("corral-log-flush").start(() -> {
            while (true) {
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
                flush();
            }
        });
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        byte[] line = (prefix + record.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (this) {
            if (used + line.length > CAPACITY) {
                flush();
            }
            if (line.length > CAPACITY) {
                write(line, line.length);
                return;
            }
            System.arraycopy(line, 0, buffer, used, line.length);
            used += line.length;
        }
    }

    @Override
    public synchronized void flush() {
        if (used > 0) {
            write(buffer, used);
            used = 0;
        }
    }

    private void write(byte[] bytes, int length) {
        try {
            out.write(bytes, 0, length);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        flush();
    }
}
