package io.corral.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.assertj.core.api.Assertions.assertThat;

class BufferedLogHandlerTest {

    @Test
    void linesWaitInTheBuffer_untilTheIntervalOrAFlush_andNoneIsLost() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BufferedLogHandler h = new BufferedLogHandler(out, "corral: ", Duration.ofSeconds(1)); // long enough that no tick falls between the two lines
        h.publish(new LogRecord(Level.INFO, "one"));
        h.publish(new LogRecord(Level.INFO, "two"));
        assertThat(out.size()).isZero(); // not one write per line
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (out.size() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("corral: one\ncorral: two\n");

        String big = "x".repeat(70_000); // longer than the buffer: written at once, after what waits
        h.publish(new LogRecord(Level.INFO, "three"));
        h.publish(new LogRecord(Level.INFO, big));
        h.publish(new LogRecord(Level.INFO, "four"));
        h.flush();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .isEqualTo("corral: one\ncorral: two\ncorral: three\ncorral: " + big + "\ncorral: four\n");
    }
}
