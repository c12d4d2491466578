package io.corral.llamacpp;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TextAssemblerTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void multiByteCharacterSplitAcrossTokens_isReleasedWhole() {
        TextAssembler a = new TextAssembler(List.of());
        byte[] euro = b("€"); // 3 bytes
        assertThat(a.append(new byte[]{euro[0]})).isEmpty();
        assertThat(a.append(new byte[]{euro[1]})).isEmpty();
        assertThat(a.append(new byte[]{euro[2], 'x'})).isEqualTo("€x");
    }

    @Test
    void possibleStopPrefix_isHeldBack_untilItCannotMatch() {
        TextAssembler a = new TextAssembler(List.of("\nUser:"));
        assertThat(a.append(b("Hello\nUs"))).isEqualTo("Hello");
        assertThat(a.append(b("ually"))).isEqualTo("\nUsually");
        assertThat(a.stopped()).isFalse();
    }

    @Test
    void stopAcrossPieces_dropsItAndAllAfter() {
        TextAssembler a = new TextAssembler(List.of("\nUser:"));
        assertThat(a.append(b("Hi\nUse"))).isEqualTo("Hi");
        assertThat(a.append(b("r: more"))).isEmpty();
        assertThat(a.stopped()).isTrue();
        assertThat(a.append(b("ignored"))).isEmpty();
        assertThat(a.flush()).isEmpty();
    }

    @Test
    void flush_releasesHeldText() {
        TextAssembler a = new TextAssembler(List.of("END"));
        assertThat(a.append(b("almost EN"))).isEqualTo("almost ");
        assertThat(a.flush()).isEqualTo("EN");
    }

    @Test
    void completeLength_findsTheLastWholeCharacter() {
        assertThat(TextAssembler.completeLength(b("ab"))).isEqualTo(2);
        byte[] e = b("a€");
        assertThat(TextAssembler.completeLength(new byte[]{e[0], e[1], e[2]})).isEqualTo(1);
        assertThat(TextAssembler.completeLength(e)).isEqualTo(4);
        byte[] emoji = b("😀");
        assertThat(TextAssembler.completeLength(new byte[]{emoji[0], emoji[1], emoji[2]})).isZero();
    }
}
