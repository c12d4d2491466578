package io.corral.gguf;

import io.corral.api.InvalidModelException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header of a GGUF file (format: ggml's {@code docs/gguf.md}) without loading any weights.
 * Every structural problem (missing, empty, truncated, not GGUF, absurd sizes, tensor data past the
 * end of the file) becomes an {@link InvalidModelException} with a one-line reason.
 */
public final class GgufReader {

    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int DEFAULT_ALIGNMENT = 32;
    /** Arrays longer than this are not kept in memory, only counted. */
    private static final int KEEP_ARRAY_MAX = 1024;
    private static final long MAX_STRING = 64L << 20;
    private static final long MAX_COUNT = 1L << 24;
    private static final int MAX_DIMS = 4;

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bufferStart; // file position of buffer[0]

    private GgufReader(Path file, FileChannel channel, long fileSize) {
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        buffer.limit(0);
    }

    /** Reads the header of {@code file}. */
    public static GgufFile read(Path file) {
        if (!Files.exists(file)) {
            throw new InvalidModelException("model file not found: " + file);
        }
        if (Files.isDirectory(file)) {
            throw new InvalidModelException("model path is a directory, not a GGUF file: " + file);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new InvalidModelException("model file is empty: " + file);
            }
            return new GgufReader(file, ch, size).readFile(file);
        } catch (NoSuchFileException e) {
            throw new InvalidModelException("model file not found: " + file);
        } catch (EOFException e) {
            throw new InvalidModelException("model file is truncated (header ends early): " + file);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read model file " + file + ": " + e.getMessage(), e);
        }
    }

    private GgufFile readFile(Path file) throws IOException {
        if (fileSize < 4 || i32() != MAGIC) {
            throw new InvalidModelException("not a GGUF file (bad magic): " + file);
        }
        int version = i32();
        if (version < 2 || version > 3) {
            throw new InvalidModelException("unsupported GGUF version " + version + " (expected 2 or 3): " + file);
        }
        long tensorCount = count(i64(), "tensor count", file);
        long kvCount = count(i64(), "metadata count", file);

        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string();
            metadata.put(key, value(u32()));
        }
        List<GgufFile.TensorInfo> tensors = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string();
            int dims = u32();
            if (dims < 1 || dims > MAX_DIMS) {
                throw new InvalidModelException("tensor " + name + " has " + dims + " dimensions: " + file);
            }
            long[] shape = new long[dims];
            for (int d = 0; d < dims; d++) {
                shape[d] = i64();
                if (shape[d] < 0 || shape[d] > fileSize * 64) {
                    throw new InvalidModelException("tensor " + name + " has an impossible shape: " + file);
                }
            }
            GgmlType type;
            try {
                type = GgmlType.byId(u32());
            } catch (IllegalArgumentException e) {
                throw new InvalidModelException("tensor " + name + ": " + e.getMessage() + ": " + file);
            }
            tensors.add(new GgufFile.TensorInfo(name, shape, type, i64()));
        }
        long alignment = metadata.get("general.alignment") instanceof Number n ? n.longValue() : DEFAULT_ALIGNMENT;
        long dataOffset = (position() + alignment - 1) / alignment * alignment;
        for (GgufFile.TensorInfo t : tensors) {
            if (dataOffset + t.offset() + t.byteSize() > fileSize) {
                throw new InvalidModelException("model file is truncated: tensor " + t.name() + " ends at byte "
                        + (dataOffset + t.offset() + t.byteSize()) + " of a " + fileSize + "-byte file: " + file);
            }
        }
        return new GgufFile(version, metadata, List.copyOf(tensors), dataOffset, fileSize);
    }

    private long count(long n, String what, Path file) {
        if (n < 0 || n > MAX_COUNT) {
            throw new InvalidModelException("GGUF header has an impossible " + what + " (" + n + "): " + file);
        }
        return n;
    }

    private Object value(int type) throws IOException {
        return switch (type) {
            case 0 -> (int) u8();
            case 1 -> (int) (byte) u8();
            case 2 -> (int) (short) u16();
            case 3 -> (int) (short) u16();
            case 4 -> Integer.toUnsignedLong(u32());
            case 5 -> i32();
            case 6 -> Float.intBitsToFloat(i32());
            case 7 -> u8() != 0;
            case 8 -> string();
            case 9 -> array();
            case 10, 11 -> i64();
            case 12 -> Double.longBitsToDouble(i64());
            default -> throw fail("unknown GGUF value type " + type);
        };
    }

    private Object array() throws IOException {
        int type = u32();
        long length = i64();
        if (length < 0 || length > fileSize - position()) {
            throw fail("model file is truncated (an array of " + length + " entries would run past its end)");
        }
        if (length > KEEP_ARRAY_MAX || type == 8 && length > 64) {
            for (long i = 0; i < length; i++) {
                skipValue(type);
            }
            return new GgufFile.LongArray(type, length);
        }
        List<Object> values = new ArrayList<>((int) length);
        for (long i = 0; i < length; i++) {
            values.add(value(type));
        }
        return values;
    }

    private void skipValue(int type) throws IOException {
        switch (type) {
            case 0, 1, 7 -> skip(1);
            case 2, 3 -> skip(2);
            case 4, 5, 6 -> skip(4);
            case 10, 11, 12 -> skip(8);
            case 8 -> skip(stringLength());
            case 9 -> array();
            default -> throw fail("unknown GGUF value type " + type);
        }
    }

    private long stringLength() throws IOException {
        long n = i64();
        if (n < 0 || n > MAX_STRING) {
            throw fail("GGUF header has a string of impossible length " + n);
        }
        return n;
    }

    private String string() throws IOException {
        int n = (int) stringLength();
        byte[] bytes = new byte[n];
        for (int off = 0; off < n; ) {
            ensure(1);
            int k = Math.min(n - off, buffer.remaining());
            buffer.get(bytes, off, k);
            off += k;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private InvalidModelException fail(String reason) {
        return new InvalidModelException(reason + ": " + file);
    }

    private long position() {
        return bufferStart + buffer.position();
    }

    private void skip(long n) throws IOException {
        if (n <= buffer.remaining()) {
            buffer.position(buffer.position() + (int) n);
            return;
        }
        long target = position() + n;
        if (target > fileSize) {
            throw new EOFException();
        }
        bufferStart = target;
        buffer.limit(0);
    }

    /** Makes at least {@code n} (at most 8) bytes available. */
    private void ensure(int n) throws IOException {
        if (buffer.remaining() >= n) {
            return;
        }
        long pos = position();
        buffer.compact(); // the unread bytes move to index 0, which is now file offset pos
        bufferStart = pos;
        while (buffer.position() < n) {
            int read = channel.read(buffer, bufferStart + buffer.position());
            if (read < 0) {
                throw new EOFException();
            }
        }
        buffer.flip();
    }

    private int u8() throws IOException {
        ensure(1);
        return buffer.get() & 0xff;
    }

    private int u16() throws IOException {
        ensure(2);
        return buffer.getShort() & 0xffff;
    }

    private int u32() throws IOException {
        ensure(4);
        return buffer.getInt();
    }

    private int i32() throws IOException {
        return u32();
    }

    private long i64() throws IOException {
        ensure(8);
        return buffer.getLong();
    }
}
