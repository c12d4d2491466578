package io.corral.gguf;

import java.util.List;
import java.util.Map;

/**
 * The header of a GGUF file: its key-value metadata and the table of tensors.
 *
 * @param version    GGUF format version (2 or 3)
 * @param metadata   key-value pairs; arrays of strings longer than a few thousand entries are kept as
 *                   {@link LongArray} placeholders holding only their length
 * @param tensors    the tensor table, in file order
 * @param dataOffset where tensor data starts (aligned)
 * @param fileSize   the size of the file in bytes
 */
public record GgufFile(int version, Map<String, Object> metadata, List<TensorInfo> tensors, long dataOffset,
                       long fileSize) {

    /** One tensor: name, shape, element type and where its data lies relative to {@link #dataOffset}. */
    public record TensorInfo(String name, long[] shape, GgmlType type, long offset) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public long byteSize() {
            return type.bytesFor(elements());
        }
    }

    /** An array whose values were skipped; only its element count is kept. */
    public record LongArray(int elementType, long length) {
    }

    public String string(String key) {
        return metadata.get(key) instanceof String s ? s : null;
    }

    public long number(String key, long fallback) {
        return metadata.get(key) instanceof Number n ? n.longValue() : fallback;
    }

    /** The length of an array value, or -1. */
    public long arrayLength(String key) {
        Object v = metadata.get(key);
        if (v instanceof List<?> l) {
            return l.size();
        }
        return v instanceof LongArray a ? a.length() : -1;
    }
}
