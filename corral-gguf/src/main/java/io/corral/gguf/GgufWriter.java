package io.corral.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes GGUF v3 files: metadata, then tensors whose bytes come from a filler. Used to make models of
 * a realistic shape for benchmarks and malformed files for tests. Values map to GGUF types by Java
 * type: String, Integer (uint32), Long (uint64), Float, Boolean, String[], int[] (int32), float[].
 */
public final class GgufWriter {

    /** Fills {@code chunk} (a whole number of blocks, little-endian) with tensor bytes. */
    public interface Filler extends Consumer<ByteBuffer> {
    }

    private record Tensor(String name, GgmlType type, long[] shape, Filler filler) {
        long bytes() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return type.bytesFor(n);
        }
    }

    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter put(String key, Object value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor; {@code shape} is ggml order (the first dimension is the row length). */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, Filler filler) {
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of "
                    + type + "'s block size " + type.blockSize);
        }
        tensors.add(new Tensor(name, type, shape.clone(), filler));
        return this;
    }

    public void write(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Out out = new Out(ch);
            out.i32(GgufReader.MAGIC);
            out.i32(3);
            out.i64(tensors.size());
            out.i64(metadata.size());
            for (var e : metadata.entrySet()) {
                out.string(e.getKey());
                out.value(e.getValue());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name);
                out.i32(t.shape.length);
                for (long d : t.shape) {
                    out.i64(d);
                }
                out.i32(t.type.id);
                out.i64(offset);
                offset = align(offset + t.bytes());
            }
            out.pad();
            for (Tensor t : tensors) {
                out.tensorData(t);
                out.pad();
            }
            out.flush();
        }
    }

    private static long align(long n) {
        return (n + GgufReader.DEFAULT_ALIGNMENT - 1) / GgufReader.DEFAULT_ALIGNMENT * GgufReader.DEFAULT_ALIGNMENT;
    }

    private static final class Out {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Out(FileChannel ch) {
            this.ch = ch;
        }

        void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                written += ch.write(buf);
            }
            buf.clear();
        }

        long position() {
            return written + buf.position();
        }

        void i32(int v) throws IOException {
            room(4);
            buf.putInt(v);
        }

        void i64(long v) throws IOException {
            room(8);
            buf.putLong(v);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            for (int off = 0; off < b.length; ) {
                room(1);
                int k = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, k);
                off += k;
            }
        }

        void value(Object v) throws IOException {
            switch (v) {
                case String s -> { i32(8); string(s); }
                case Integer i -> { i32(4); i32(i); }
                case Long l -> { i32(10); i64(l); }
                case Float f -> { i32(6); i32(Float.floatToIntBits(f)); }
                case Boolean b -> { i32(7); room(1); buf.put((byte) (b ? 1 : 0)); }
                case String[] a -> {
                    i32(9); i32(8); i64(a.length);
                    for (String s : a) {
                        string(s);
                    }
                }
                case int[] a -> {
                    i32(9); i32(5); i64(a.length);
                    for (int x : a) {
                        i32(x);
                    }
                }
                case float[] a -> {
                    i32(9); i32(6); i64(a.length);
                    for (float x : a) {
                        i32(Float.floatToIntBits(x));
                    }
                }
                default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass());
            }
        }

        void pad() throws IOException {
            while (position() % GgufReader.DEFAULT_ALIGNMENT != 0) {
                room(1);
                buf.put((byte) 0);
            }
        }

        void tensorData(Tensor t) throws IOException {
            long remaining = t.bytes();
            int chunkBlocks = Math.max(1, (buf.capacity() / 2) / t.type.bytesPerBlock);
            while (remaining > 0) {
                flush();
                int n = (int) Math.min(remaining, (long) chunkBlocks * t.type.bytesPerBlock);
                ByteBuffer chunk = buf.slice(0, n).order(ByteOrder.LITTLE_ENDIAN);
                t.filler.accept(chunk);
                buf.position(n);
                remaining -= n;
            }
        }
    }
}
