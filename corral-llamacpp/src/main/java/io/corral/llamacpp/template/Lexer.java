package io.corral.llamacpp.template;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Splits a template into text and the tokens of its tags, as Hugging Face renders chat templates: a final
 * newline dropped, {@code lstrip_blocks} and {@code trim_blocks} on, {@code -} trimming white space beside a
 * tag, {@code {% generation %}} markers removed.
 */
final class Lexer {

    enum Kind { TEXT, OPEN_STMT, CLOSE_STMT, OPEN_EXPR, CLOSE_EXPR, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Kind kind, String text, int line) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }

        boolean isOp(String t) {
            return is(Kind.OP, t);
        }

        boolean isName(String t) {
            return is(Kind.NAME, t);
        }
    }

    private static final Pattern LSTRIP = Pattern.compile("(?m)^[ \\t]*(\\{[#%])");
    private static final Pattern TRIM = Pattern.compile("([#%]})\\n");
    private static final Pattern GENERATION = Pattern.compile("(?s)(\\s*)\\{%(-?)\\s*(?:end)?generation\\s*(-?)%}(\\s*)");
    private static final String[] OPS = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":",
            "|", "~", "+", "-", "*", "/", "%", "<", ">", "="};

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;

    private Lexer(String src) {
        this.src = src;
    }

    static List<Token> tokenize(String template) {
        String s = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        s = LSTRIP.matcher(s).replaceAll("$1");
        s = TRIM.matcher(s).replaceAll("$1");
        s = GENERATION.matcher(s).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                (m.group(2).isEmpty() ? m.group(1) : "") + (m.group(3).isEmpty() ? m.group(4) : "")));
        Lexer l = new Lexer(s);
        l.run();
        return l.tokens;
    }

    private TemplateException error(String message) {
        return new TemplateException("line " + line + ": " + message);
    }

    private void add(Kind k, String text) {
        tokens.add(new Token(k, text, line));
    }

    private void run() {
        while (pos < src.length()) {
            int next = nextTag(pos);
            if (next > pos) {
                String text = src.substring(pos, next);
                add(Kind.TEXT, text);
                count(text);
                pos = next;
                continue;
            }
            char kind = src.charAt(pos + 1);
            boolean stripBefore = pos + 2 < src.length() && src.charAt(pos + 2) == '-';
            if (stripBefore) {
                stripTrailingWhitespace();
            }
            pos += stripBefore ? 3 : 2;
            if (kind == '#') {
                int end = src.indexOf("#}", pos);
                if (end < 0) {
                    throw error("a comment is not closed");
                }
                boolean stripAfter = end > pos && src.charAt(end - 1) == '-';
                count(src.substring(pos, end));
                pos = end + 2;
                if (stripAfter) {
                    skipWhitespace();
                }
                continue;
            }
            add(kind == '%' ? Kind.OPEN_STMT : Kind.OPEN_EXPR, kind == '%' ? "{%" : "{{");
            insideTag(kind == '%' ? "%}" : "}}");
        }
        add(Kind.EOF, "");
    }

    private int nextTag(int from) {
        for (int i = from; i < src.length() - 1; i++) {
            char c = src.charAt(i);
            char d = src.charAt(i + 1);
            if (c == '{' && (d == '%' || d == '{' || d == '#')) {
                return i;
            }
        }
        return src.length();
    }

    private void count(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                line++;
            }
        }
    }

    private void stripTrailingWhitespace() {
        if (!tokens.isEmpty() && tokens.getLast().kind() == Kind.TEXT) {
            Token t = tokens.removeLast();
            String trimmed = t.text().stripTrailing();
            if (!trimmed.isEmpty()) {
                tokens.add(new Token(Kind.TEXT, trimmed, t.line()));
            }
        }
    }

    private void skipWhitespace() {
        while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
            if (src.charAt(pos) == '\n') {
                line++;
            }
            pos++;
        }
    }

    /** The tokens of one tag, up to its close ({@code %}} or {@code }}}, with {@code -} trimming after it). */
    private void insideTag(String close) {
        int braces = 0;
        while (true) {
            skipWhitespace();
            if (pos >= src.length()) {
                throw error("a tag is not closed (" + close + ")");
            }
            if (src.startsWith("-" + close, pos) && (braces == 0 || close.equals("%}"))) {
                add(close.equals("%}") ? Kind.CLOSE_STMT : Kind.CLOSE_EXPR, close);
                pos += 3;
                skipWhitespace();
                return;
            }
            if (src.startsWith(close, pos) && (braces == 0 || close.equals("%}"))) {
                add(close.equals("%}") ? Kind.CLOSE_STMT : Kind.CLOSE_EXPR, close);
                pos += 2;
                return;
            }
            char c = src.charAt(pos);
            if (c == '\'' || c == '"') {
                add(Kind.STRING, string(c));
            } else if (Character.isDigit(c)) {
                int start = pos;
                while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                boolean dot = pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))
                        && (tokens.isEmpty() || !tokens.getLast().isOp("."));
                if (dot) {
                    pos++;
                    while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                        pos++;
                    }
                }
                boolean exponent = false;
                if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
                    int e = pos + 1;
                    if (e < src.length() && (src.charAt(e) == '+' || src.charAt(e) == '-')) {
                        e++;
                    }
                    if (e < src.length() && Character.isDigit(src.charAt(e))) {
                        exponent = true;
                        pos = e;
                        while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                            pos++;
                        }
                    }
                }
                add(dot || exponent ? Kind.FLOAT : Kind.INT, src.substring(start, pos).replace("_", ""));
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                add(Kind.NAME, src.substring(start, pos));
            } else {
                String op = null;
                for (String o : OPS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw error("unexpected character '" + c + "'");
                }
                if (op.equals("{")) {
                    braces++;
                } else if (op.equals("}")) {
                    braces--;
                }
                add(Kind.OP, op);
                pos += op.length();
            }
        }
    }

    private String string(char quote) {
        StringBuilder b = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw error("a string is not closed");
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                return b.toString();
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= src.length()) {
                throw error("a string is not closed");
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case '\\', '\'', '"' -> b.append(e);
                case 'x', 'u' -> {
                    int n = e == 'x' ? 2 : 4;
                    if (pos + n > src.length()) {
                        throw error("a bad escape in a string");
                    }
                    b.append((char) Integer.parseInt(src.substring(pos, pos + n), 16));
                    pos += n;
                }
                default -> b.append('\\').append(e); // Python keeps unknown escapes as they are
            }
        }
    }
}
