package io.corral.llamacpp;

import io.corral.gguf.GgufFile;
import io.corral.gguf.GgufReader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A copy of a real GGUF model with a chat template written into its metadata ({@code tokenizer.chat_template}),
 * so a base model can be prompted as a chat model is: the new entries go right after the header (with a
 * padding entry that keeps the tensor data aligned), everything else is copied as it is.
 */
final class TemplatedModel {

    private TemplatedModel() {
    }

    static Path copy(Path source, Path target, String template) throws IOException {
        GgufFile g = GgufReader.read(source);
        long alignment = g.number("general.alignment", 32);
        byte[] bytes = Files.readAllBytes(source);
        ByteArrayOutputStream kv = new ByteArrayOutputStream();
        entry(kv, "tokenizer.chat_template", template);
        int base = kv.size() + 8 + "corral.padding".length() + 4 + 8; // the padding entry without its value
        int pad = (int) ((alignment - base % alignment) % alignment);
        entry(kv, "corral.padding", " ".repeat(pad));
        ByteBuffer header = ByteBuffer.wrap(bytes, 0, 24).order(ByteOrder.LITTLE_ENDIAN);
        long kvCount = header.getLong(16);
        ByteBuffer out = ByteBuffer.allocate(bytes.length + kv.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(bytes, 0, 16).putLong(kvCount + 2).put(kv.toByteArray()).put(bytes, 24, bytes.length - 24);
        return Files.write(target, out.array());
    }

    private static void entry(ByteArrayOutputStream out, String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + k.length + 4 + 8 + v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(k.length).put(k).putInt(8).putLong(v.length).put(v); // 8: a string
        out.writeBytes(b.array());
    }
}
