package io.corral.llamacpp.template;

import io.corral.llamacpp.template.Lexer.Kind;
import io.corral.llamacpp.template.Lexer.Token;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/** Jinja's grammar, as far as chat templates use it, into {@link Node}s and {@link Expr}s. */
final class Parser {

    // ---- the tree ----

    sealed interface Node {
    }

    record Text(String text) implements Node {
    }

    record Output(Expr value) implements Node {
    }

    record If(List<Expr> tests, List<List<Node>> bodies, List<Node> otherwise) implements Node {
    }

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise) implements Node {
    }

    record Assign(Expr target, Expr value) implements Node {
    }

    record SetBlock(String name, List<Node> body) implements Node {
    }

    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body) implements Node {
    }

    record CallBlock(Call call, List<Node> body) implements Node {
    }

    record FilterBlock(Filter filter, List<Node> body) implements Node {
    }

    record Break() implements Node {
    }

    record Continue() implements Node {
    }

    sealed interface Expr {
    }

    record Literal(Object value) implements Expr {
    }

    record Name(String name) implements Expr {
    }

    record Attr(Expr object, String name) implements Expr {
    }

    record Item(Expr object, Expr key) implements Expr {
    }

    record Slice(Expr object, Expr start, Expr stop, Expr step) implements Expr {
    }

    record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    }

    record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    }

    record Test(Expr value, String name, boolean negated, List<Expr> args) implements Expr {
    }

    record Unary(String op, Expr operand) implements Expr {
    }

    record Binary(String op, Expr left, Expr right) implements Expr {
    }

    record Conditional(Expr test, Expr then, Expr otherwise) implements Expr {
    }

    record ListExpr(List<Expr> items, boolean tuple) implements Expr {
    }

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {
    }

    // ---- parsing ----

    private final List<Token> tokens;
    private int at;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String template) {
        Parser p = new Parser(Lexer.tokenize(template));
        List<Node> body = p.block(java.util.Set.of());
        if (p.peek().kind() != Kind.EOF) {
            throw p.error("unexpected {% " + p.peek(1).text() + " %}");
        }
        return body;
    }

    private Token peek() {
        return tokens.get(at);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    private Token next() {
        return tokens.get(at++);
    }

    private TemplateException error(String message) {
        return new TemplateException("line " + peek().line() + ": " + message);
    }

    private Token expect(Kind kind, String text) {
        Token t = next();
        if (t.kind() != kind || (text != null && !t.text().equals(text))) {
            at--;
            throw error("expected " + (text != null ? "'" + text + "'" : kind.name().toLowerCase()) + ", found '" + t.text() + "'");
        }
        return t;
    }

    private String name() {
        return expect(Kind.NAME, null).text();
    }

    /** Nodes up to a {@code {% word %}} in {@code ends} (not consumed), or the end. */
    private List<Node> block(java.util.Set<String> ends) {
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("missing {% " + String.join(" or ", ends) + " %}");
                    }
                    return nodes;
                }
                case TEXT -> nodes.add(new Text(next().text()));
                case OPEN_EXPR -> {
                    next();
                    nodes.add(new Output(expression()));
                    expect(Kind.CLOSE_EXPR, null);
                }
                case OPEN_STMT -> {
                    String word = peek(1).text();
                    if (ends.contains(word)) {
                        return nodes;
                    }
                    next();
                    nodes.add(statement());
                }
                default -> throw error("unexpected '" + t.text() + "'");
            }
        }
    }

    private void endTag() {
        expect(Kind.CLOSE_STMT, null);
    }

    private void closeWith(String word) {
        expect(Kind.OPEN_STMT, null);
        expect(Kind.NAME, word);
        endTag();
    }

    private Node statement() {
        String word = name();
        switch (word) {
            case "if" -> {
                List<Expr> tests = new ArrayList<>();
                List<List<Node>> bodies = new ArrayList<>();
                tests.add(expression());
                endTag();
                bodies.add(block(java.util.Set.of("elif", "else", "endif")));
                List<Node> otherwise = List.of();
                while (true) {
                    expect(Kind.OPEN_STMT, null);
                    String w = name();
                    if (w.equals("elif")) {
                        tests.add(expression());
                        endTag();
                        bodies.add(block(java.util.Set.of("elif", "else", "endif")));
                    } else if (w.equals("else")) {
                        endTag();
                        otherwise = block(java.util.Set.of("endif"));
                        closeWith("endif");
                        break;
                    } else {
                        endTag();
                        break;
                    }
                }
                return new If(tests, bodies, otherwise);
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                boolean paren = peek().isOp("(");
                if (paren) {
                    next();
                }
                targets.add(name());
                while (peek().isOp(",")) {
                    next();
                    targets.add(name());
                }
                if (paren) {
                    expect(Kind.OP, ")");
                }
                expect(Kind.NAME, "in");
                Expr iterable = orExpr(); // a conditional here would take the loop's filter
                Expr filter = null;
                if (peek().isName("if")) {
                    next();
                    filter = expression();
                }
                if (peek().isName("recursive")) {
                    throw error("recursive loops are not supported");
                }
                endTag();
                List<Node> body = block(java.util.Set.of("else", "endfor"));
                List<Node> otherwise = List.of();
                expect(Kind.OPEN_STMT, null);
                if (name().equals("else")) {
                    endTag();
                    otherwise = block(java.util.Set.of("endfor"));
                    closeWith("endfor");
                } else {
                    endTag();
                }
                return new For(targets, iterable, filter, body, otherwise);
            }
            case "set" -> {
                Expr target = primary();
                if (peek().kind() == Kind.CLOSE_STMT) {
                    if (!(target instanceof Name n)) {
                        throw error("a set block needs a name");
                    }
                    endTag();
                    List<Node> body = block(java.util.Set.of("endset"));
                    closeWith("endset");
                    return new SetBlock(n.name(), body);
                }
                if (peek().isOp(",")) { // set a, b = ...
                    List<Expr> names = new ArrayList<>(List.of(target));
                    while (peek().isOp(",")) {
                        next();
                        names.add(primary());
                    }
                    target = new ListExpr(names, true);
                }
                expect(Kind.OP, "=");
                Expr value = expression();
                endTag();
                return new Assign(target, value);
            }
            case "macro" -> {
                String name = name();
                expect(Kind.OP, "(");
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                while (!peek().isOp(")")) {
                    params.add(name());
                    if (peek().isOp("=")) {
                        next();
                        defaults.add(expression());
                    } else {
                        defaults.add(null);
                    }
                    if (peek().isOp(",")) {
                        next();
                    }
                }
                next();
                endTag();
                List<Node> body = block(java.util.Set.of("endmacro"));
                closeWith("endmacro");
                return new Macro(name, params, defaults, body);
            }
            case "call" -> {
                Expr call = expression();
                if (!(call instanceof Call c)) {
                    throw error("{% call %} needs a macro call");
                }
                endTag();
                List<Node> body = block(java.util.Set.of("endcall"));
                closeWith("endcall");
                return new CallBlock(c, body);
            }
            case "filter" -> {
                Filter f = filterAfter(new Name("caller"));
                endTag();
                List<Node> body = block(java.util.Set.of("endfilter"));
                closeWith("endfilter");
                return new FilterBlock(f, body);
            }
            case "break" -> {
                endTag();
                return new Break();
            }
            case "continue" -> {
                endTag();
                return new Continue();
            }
            default -> throw error("unknown tag {% " + word + " %}");
        }
    }

    // ---- expressions, lowest precedence first (as Jinja2 orders them) ----

    Expr expression() {
        Expr e = orExpr();
        if (peek().isName("if")) {
            next();
            Expr test = orExpr();
            Expr otherwise = null;
            if (peek().isName("else")) {
                next();
                otherwise = expression();
            }
            return new Conditional(test, e, otherwise);
        }
        return e;
    }

    private Expr orExpr() {
        Expr e = andExpr();
        while (peek().isName("or")) {
            next();
            e = new Binary("or", e, andExpr());
        }
        return e;
    }

    private Expr andExpr() {
        Expr e = notExpr();
        while (peek().isName("and")) {
            next();
            e = new Binary("and", e, notExpr());
        }
        return e;
    }

    private Expr notExpr() {
        if (peek().isName("not")) {
            next();
            return new Unary("not", notExpr());
        }
        return compare();
    }

    private static final java.util.Set<String> COMPARE = java.util.Set.of("==", "!=", "<", ">", "<=", ">=");

    private Expr compare() {
        Expr e = math1();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) {
                next();
                e = new Binary(t.text(), e, math1());
            } else if (t.isName("in")) {
                next();
                e = new Binary("in", e, math1());
            } else if (t.isName("not") && peek(1).isName("in")) {
                next();
                next();
                e = new Unary("not", new Binary("in", e, math1()));
            } else {
                return e;
            }
        }
    }

    private Expr math1() {
        Expr e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            String op = next().text();
            e = new Binary(op, e, concat());
        }
        return e;
    }

    private Expr concat() {
        Expr e = math2();
        while (peek().isOp("~")) {
            next();
            e = new Binary("~", e, math2());
        }
        return e;
    }

    private Expr math2() {
        Expr e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            String op = next().text();
            e = new Binary(op, e, pow());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary();
        while (peek().isOp("**")) {
            next();
            e = new Binary("**", e, unary());
        }
        return e;
    }

    private Expr unary() {
        if (peek().isOp("-") || peek().isOp("+")) {
            String op = next().text();
            return filters(new Unary(op, unary()));
        }
        return filters(primary());
    }

    /** {@code | filter(...)} and {@code is [not] test(...)} after a value. */
    private Expr filters(Expr e) {
        while (true) {
            if (peek().isOp("|")) {
                next();
                e = filterAfter(e);
            } else if (peek().isName("is")) {
                next();
                boolean negated = false;
                if (peek().isName("not")) {
                    next();
                    negated = true;
                }
                String test = name();
                List<Expr> args = new ArrayList<>();
                if (peek().isOp("(")) {
                    next();
                    while (!peek().isOp(")")) {
                        args.add(expression());
                        if (peek().isOp(",")) {
                            next();
                        }
                    }
                    next();
                } else if (peek().kind() == Kind.STRING || peek().kind() == Kind.INT || peek().kind() == Kind.FLOAT) {
                    args.add(primary()); // "is divisibleby 3", "is equalto 'x'"
                }
                e = new Test(e, test, negated, args);
            } else {
                return e;
            }
        }
    }

    private Filter filterAfter(Expr e) {
        String name = name();
        while (peek().isOp(".")) { // dotted filter names do not occur; keep the grammar simple
            throw error("unexpected '.' after filter " + name);
        }
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        if (peek().isOp("(")) {
            arguments(args, kwargs);
        }
        return new Filter(e, name, args, kwargs);
    }

    private void arguments(List<Expr> args, Map<String, Expr> kwargs) {
        expect(Kind.OP, "(");
        while (!peek().isOp(")")) {
            if (peek().kind() == Kind.NAME && peek(1).isOp("=")) {
                String key = next().text();
                next();
                kwargs.put(key, expression());
            } else {
                args.add(expression());
            }
            if (peek().isOp(",")) {
                next();
            } else if (!peek().isOp(")")) {
                throw error("expected ',' or ')' in arguments, found '" + peek().text() + "'");
            }
        }
        next();
    }

    private Expr primary() {
        Token t = next();
        Expr e = switch (t.kind()) {
            case STRING -> {
                StringBuilder s = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) { // adjacent strings are one
                    s.append(next().text());
                }
                yield new Literal(s.toString());
            }
            case INT -> new Literal(Long.parseLong(t.text()));
            case FLOAT -> new Literal(Double.parseDouble(t.text()));
            case NAME -> switch (t.text()) {
                case "true", "True" -> new Literal(Boolean.TRUE);
                case "false", "False" -> new Literal(Boolean.FALSE);
                case "none", "None" -> new Literal(null);
                default -> new Name(t.text());
            };
            case OP -> switch (t.text()) {
                case "(" -> {
                    if (peek().isOp(")")) {
                        next();
                        yield new ListExpr(List.of(), true);
                    }
                    Expr inner = expression();
                    if (peek().isOp(",")) {
                        List<Expr> items = new ArrayList<>(List.of(inner));
                        while (peek().isOp(",")) {
                            next();
                            if (peek().isOp(")")) {
                                break;
                            }
                            items.add(expression());
                        }
                        inner = new ListExpr(items, true);
                    }
                    expect(Kind.OP, ")");
                    yield inner;
                }
                case "[" -> {
                    List<Expr> items = new ArrayList<>();
                    while (!peek().isOp("]")) {
                        items.add(expression());
                        if (peek().isOp(",")) {
                            next();
                        }
                    }
                    next();
                    yield new ListExpr(items, false);
                }
                case "{" -> {
                    List<Expr> keys = new ArrayList<>();
                    List<Expr> values = new ArrayList<>();
                    while (!peek().isOp("}")) {
                        keys.add(expression());
                        expect(Kind.OP, ":");
                        values.add(expression());
                        if (peek().isOp(",")) {
                            next();
                        }
                    }
                    next();
                    yield new DictExpr(keys, values);
                }
                default -> {
                    at--;
                    throw error("unexpected '" + t.text() + "'");
                }
            };
            default -> {
                at--;
                throw error("unexpected '" + t.text() + "'");
            }
        };
        return postfix(e);
    }

    /** {@code .name}, {@code [key]}, {@code [a:b:c]}, {@code (args)}. */
    private Expr postfix(Expr e) {
        while (true) {
            if (peek().isOp(".")) {
                next();
                Token t = next();
                if (t.kind() != Kind.NAME && t.kind() != Kind.INT) {
                    at--;
                    throw error("expected a name after '.'");
                }
                e = new Attr(e, t.text());
            } else if (peek().isOp("[")) {
                next();
                Expr[] parts = new Expr[3];
                int part = 0;
                boolean slice = false;
                while (!peek().isOp("]")) {
                    if (peek().isOp(":")) {
                        next();
                        slice = true;
                        part++;
                        if (part > 2) {
                            throw error("a slice has at most three parts");
                        }
                        continue;
                    }
                    parts[part] = expression();
                }
                next();
                e = slice ? new Slice(e, parts[0], parts[1], parts[2]) : new Item(e, parts[0]);
            } else if (peek().isOp("(")) {
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                arguments(args, kwargs);
                e = new Call(e, args, kwargs);
            } else {
                return e;
            }
        }
    }
}
