package io.corral.retrieval;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The text of a document users drop in: plain text, Markdown, HTML or PDF, told apart by the file's name and
 * its first bytes. Paragraphs come out separated by a blank line, for the chunker. What cannot be read is an
 * {@link Unreadable} with the code OpenAI reports ({@code unsupported_file}, {@code invalid_file}).
 */
public final class DocumentReader {

    /** A file that cannot be read; {@code code} is the vector store file's {@code last_error.code}. */
    public static final class Unreadable extends Exception {
        private final String code;

        Unreadable(String code, String message) {
            super(message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    private static final Set<String> BLOCKS = Set.of("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "section",
            "article", "pre", "blockquote", "table", "ul", "ol", "dl", "dt", "dd", "header", "footer", "main", "aside", "figure",
            "figcaption", "hr", "title");
    private static final Set<String> BINARY = Set.of("docx", "doc", "xlsx", "xls", "pptx", "ppt", "png", "jpg", "jpeg", "gif",
            "webp", "zip", "gz", "tar", "exe", "bin", "mp3", "mp4", "wav");
    private static final Pattern MD_IMAGE = Pattern.compile("!\\[([^\\]]*)]\\([^)]*\\)");
    private static final Pattern MD_LINK = Pattern.compile("\\[([^\\]]*)]\\([^)]*\\)");
    private static final Pattern MD_HEADING = Pattern.compile("(?m)^\\s{0,3}#{1,6}\\s+");
    private static final Pattern MD_EMPHASIS = Pattern.compile("(\\*\\*|__|\\*|`)(?=\\S)(.+?)(?<=\\S)\\1");

    private DocumentReader() {
    }

    public static String read(String filename, byte[] bytes) throws Unreadable {
        String name = filename == null ? "" : filename.toLowerCase(Locale.ROOT);
        String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
        if (ext.equals("pdf") || startsWith(bytes, "%PDF-")) {
            return pdf(bytes);
        }
        if (BINARY.contains(ext)) {
            throw new Unreadable("unsupported_file", "cannot read ." + ext + " files; plain text, Markdown, HTML and PDF can be read");
        }
        String text = utf8(bytes);
        if (ext.equals("html") || ext.equals("htm") || ext.equals("xhtml") || looksLikeHtml(text)) {
            return html(text);
        }
        if (ext.equals("md") || ext.equals("markdown")) {
            return markdown(text);
        }
        return text;
    }

    private static boolean startsWith(byte[] bytes, String prefix) {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length < p.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (bytes[i] != p[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean looksLikeHtml(String text) {
        String head = text.stripLeading();
        head = head.substring(0, Math.min(head.length(), 64)).toLowerCase(Locale.ROOT);
        return head.startsWith("<!doctype html") || head.startsWith("<html");
    }

    private static String utf8(byte[] bytes) throws Unreadable {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            if (s.indexOf('\0') >= 0) {
                throw new Unreadable("unsupported_file", "the file is binary, not text");
            }
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new Unreadable("unsupported_file", "the file is neither UTF-8 text nor a PDF");
        }
    }

    private static String pdf(byte[] bytes) throws Unreadable {
        try (PDDocument doc = Loader.loadPDF(bytes)) {
            PDFTextStripper stripper = new PDFTextStripper();
            stripper.setParagraphEnd("\n\n");
            stripper.setSortByPosition(true);
            return stripper.getText(doc);
        } catch (org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException e) {
            throw new Unreadable("invalid_file", "the PDF is encrypted");
        } catch (IOException | RuntimeException e) {
            throw new Unreadable("invalid_file", "not a readable PDF: " + e.getMessage());
        }
    }

    static String html(String html) {
        org.jsoup.nodes.Document doc = Jsoup.parse(html);
        doc.select("script, style, noscript, template, svg, nav").remove();
        StringBuilder out = new StringBuilder();
        doc.traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    out.append(t.text());
                } else if (node instanceof Element e && e.nameIs("br")) {
                    out.append('\n');
                } else if (node instanceof Element e && BLOCKS.contains(e.normalName())) {
                    out.append("\n\n");
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && BLOCKS.contains(e.normalName())) {
                    out.append("\n\n");
                }
            }
        });
        return out.toString().replaceAll("[ \\t\\x0B\\f\\r]+", " ").replaceAll(" ?\\n ?", "\n").replaceAll("\\n{3,}", "\n\n").strip();
    }

    static String markdown(String md) {
        String s = MD_IMAGE.matcher(md).replaceAll("$1");
        s = MD_LINK.matcher(s).replaceAll("$1");
        s = MD_HEADING.matcher(s).replaceAll("");
        s = MD_EMPHASIS.matcher(s).replaceAll("$2");
        return s;
    }
}
