package io.corral.retrieval;

import io.corral.spi.VectorStores.Chunking;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class ChunkerTest {

    private static int words(String s) {
        return s.split("\\s+").length;
    }

    @Test
    void aSmallPassage_staysWhole() {
        String text = IntStream.range(0, 350).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        assertThat(Chunker.chunks("  " + text + "\n", Chunking.AUTO)).containsExactly(text);
        assertThat(Chunker.chunks(" \n\n ", Chunking.AUTO)).isEmpty();
    }

    @Test
    void aLongText_isPackedFromParagraphs_withOverlap_withinTheLimit() {
        StringBuilder doc = new StringBuilder();
        for (int p = 0; p < 12; p++) {
            for (int s = 0; s < 4; s++) {
                doc.append("Paragraph ").append(p).append(" sentence ").append(s).append(" has some more words in it. ");
            }
            doc.append("\n\n");
        }
        List<String> chunks = Chunker.chunks(doc.toString(), Chunking.AUTO);
        assertThat(chunks).hasSizeGreaterThan(1).allSatisfy(c -> assertThat(words(c)).isLessThanOrEqualTo(Chunker.AUTO_WORDS));
        assertThat(chunks.get(0)).startsWith("Paragraph 0 sentence 0");
        // each chunk after the first starts with the end of the one before
        for (int i = 1; i < chunks.size(); i++) {
            String first = chunks.get(i).substring(0, chunks.get(i).indexOf(" has"));
            assertThat(chunks.get(i - 1)).contains(first);
        }
        // nothing is lost
        String all = String.join(" ", chunks);
        for (int p = 0; p < 12; p++) {
            assertThat(all).contains("Paragraph " + p + " sentence 3");
        }
    }

    @Test
    void aSentenceLongerThanAChunk_isCutByWords() {
        String text = IntStream.range(0, 450).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        List<String> chunks = Chunker.chunks(text, Chunking.AUTO);
        assertThat(chunks).hasSizeGreaterThanOrEqualTo(3).allSatisfy(c -> assertThat(words(c)).isLessThanOrEqualTo(Chunker.AUTO_WORDS));
        assertThat(chunks.getLast()).endsWith("w449");
        // the cuts leave room for the overlap: each chunk after the first starts with the last words of the one before
        for (int i = 1; i < chunks.size(); i++) {
            String[] before = chunks.get(i - 1).split(" ");
            assertThat(chunks.get(i)).startsWith(String.join(" ", java.util.Arrays.copyOfRange(before,
                    before.length - Chunker.AUTO_OVERLAP_WORDS, before.length)) + " ");
        }
    }

    @Test
    void staticChunking_usesFixedWindows_withTheOverlap() {
        String text = IntStream.range(0, 300).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        List<String> chunks = Chunker.chunks(text, Chunking.fixed(100, 20)); // 75 words, 15 overlap
        assertThat(chunks.get(0).split(" ")).hasSize(75);
        assertThat(chunks.get(1)).startsWith("w60 ");
        assertThat(chunks.getLast()).endsWith("w299");
    }
}
