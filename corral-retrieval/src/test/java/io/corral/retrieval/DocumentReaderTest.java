package io.corral.retrieval;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DocumentReaderTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void html_keepsTheTextInParagraphs_withoutScriptsOrStyles() throws Exception {
        String html = "<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style><script>var x=1;</script></head>"
                + "<body><h1>Heading</h1><p>First <b>bold</b> para.</p><p>Second para.</p></body></html>";
        String text = DocumentReader.read("page.html", utf8(html));
        assertThat(text).isEqualTo("T\n\nHeading\n\nFirst bold para.\n\nSecond para.");
        assertThat(DocumentReader.read("noext", utf8(html))).as("found by its first bytes").isEqualTo(text);
    }

    @Test
    void markdown_dropsItsMarks() throws Exception {
        assertThat(DocumentReader.read("r.md", utf8("## Title\n\nSee [the docs](http://x) and **this** `code`.\n")))
                .isEqualTo("Title\n\nSee the docs and this code.\n");
    }

    @Test
    void pdf_isRead() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PDDocument doc = new PDDocument()) {
            PDPage page = new PDPage();
            doc.addPage(page);
            try (PDPageContentStream s = new PDPageContentStream(doc, page)) {
                s.beginText();
                s.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 12);
                s.newLineAtOffset(72, 700);
                s.showText("Boundary layers in hypersonic flow.");
                s.endText();
            }
            doc.save(out);
        }
        assertThat(DocumentReader.read("paper.pdf", out.toByteArray()).strip()).isEqualTo("Boundary layers in hypersonic flow.");
    }

    @Test
    void whatCannotBeRead_saysWhy() {
        assertThatThrownBy(() -> DocumentReader.read("a.docx", utf8("PK..."))).isInstanceOf(DocumentReader.Unreadable.class)
                .hasMessageContaining(".docx").extracting(e -> ((DocumentReader.Unreadable) e).code()).isEqualTo("unsupported_file");
        assertThatThrownBy(() -> DocumentReader.read("a.txt", new byte[]{(byte) 0xc3, 0x28})).isInstanceOf(DocumentReader.Unreadable.class);
        assertThatThrownBy(() -> DocumentReader.read("a.pdf", utf8("%PDF-1.7 truncated"))).isInstanceOf(DocumentReader.Unreadable.class)
                .extracting(e -> ((DocumentReader.Unreadable) e).code()).isEqualTo("invalid_file");
    }
}
