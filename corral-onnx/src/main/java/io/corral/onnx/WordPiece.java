package io.corral.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's uncased tokenizer, as a Hugging Face {@code tokenizer.json} describes it (BertNormalizer with
 * lowercasing and accent stripping, BertPreTokenizer, WordPiece with {@code ##} continuations): text to
 * {@code [CLS] ... [SEP]} ids, at most {@code maxTokens} of them.
 */
final class WordPiece {

    private final Map<String, Integer> vocab;
    private final int unk;
    private final int cls;
    private final int sep;
    private final int maxWordChars;

    private WordPiece(Map<String, Integer> vocab, int maxWordChars) {
        this.vocab = vocab;
        this.unk = vocab.get("[UNK]");
        this.cls = vocab.get("[CLS]");
        this.sep = vocab.get("[SEP]");
        this.maxWordChars = maxWordChars;
    }

    /** Reads a {@code tokenizer.json} whose model is WordPiece. */
    static WordPiece read(InputStream tokenizerJson) throws IOException {
        JsonNode model = new ObjectMapper().readTree(tokenizerJson).path("model");
        if (!model.path("type").asText().equals("WordPiece")) {
            throw new IOException("not a WordPiece tokenizer: " + model.path("type").asText());
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        return new WordPiece(vocab, model.path("max_input_chars_per_word").asInt(100));
    }

    int[] encode(String text, int maxTokens) {
        List<Integer> ids = new ArrayList<>();
        ids.add(cls);
        outer:
        for (String word : words(normalize(text))) {
            for (int id : pieces(word)) {
                if (ids.size() == maxTokens - 1) {
                    break outer; // truncated, room left for [SEP]
                }
                ids.add(id);
            }
        }
        ids.add(sep);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Clean (controls dropped, white space as spaces), CJK set apart, lowercased, accents stripped. */
    static String normalize(String text) {
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || (Character.getType(c) == Character.CONTROL && c != '\t' && c != '\n' && c != '\r')) {
                return;
            }
            if (Character.isWhitespace(c) || Character.getType(c) == Character.SPACE_SEPARATOR) {
                b.append(' ');
            } else if (cjk(c)) {
                b.append(' ').appendCodePoint(c).append(' ');
            } else {
                b.appendCodePoint(c);
            }
        });
        String lower = b.toString().toLowerCase(java.util.Locale.ROOT);
        String decomposed = Normalizer.normalize(lower, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(out::appendCodePoint);
        return out.toString();
    }

    private static boolean cjk(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /** Split at white space, each punctuation character a word of its own. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (c == ' ') {
                flush(word, out);
            } else if (punctuation(c)) {
                flush(word, out);
                out.add(new String(Character.toChars(c)));
            } else {
                word.appendCodePoint(c);
            }
        });
        flush(word, out);
        return out;
    }

    private static void flush(StringBuilder word, List<String> out) {
        if (!word.isEmpty()) {
            out.add(word.toString());
            word.setLength(0);
        }
    }

    private static boolean punctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** Longest match first, continuations with {@code ##}; a word that cannot be pieced is {@code [UNK]}. */
    private List<Integer> pieces(String word) {
        if (word.codePointCount(0, word.length()) > maxWordChars) {
            return List.of(unk);
        }
        List<Integer> ids = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer found = null;
            while (start < end) {
                String piece = (start > 0 ? "##" : "") + word.substring(start, end);
                found = vocab.get(piece);
                if (found != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (found == null) {
                return List.of(unk);
            }
            ids.add(found);
            start = end;
        }
        return ids;
    }
}
