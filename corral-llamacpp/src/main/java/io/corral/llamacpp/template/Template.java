package io.corral.llamacpp.template;

import io.corral.llamacpp.template.Parser.Assign;
import io.corral.llamacpp.template.Parser.Attr;
import io.corral.llamacpp.template.Parser.Binary;
import io.corral.llamacpp.template.Parser.Break;
import io.corral.llamacpp.template.Parser.Call;
import io.corral.llamacpp.template.Parser.CallBlock;
import io.corral.llamacpp.template.Parser.Conditional;
import io.corral.llamacpp.template.Parser.Continue;
import io.corral.llamacpp.template.Parser.DictExpr;
import io.corral.llamacpp.template.Parser.Expr;
import io.corral.llamacpp.template.Parser.Filter;
import io.corral.llamacpp.template.Parser.FilterBlock;
import io.corral.llamacpp.template.Parser.For;
import io.corral.llamacpp.template.Parser.If;
import io.corral.llamacpp.template.Parser.Item;
import io.corral.llamacpp.template.Parser.ListExpr;
import io.corral.llamacpp.template.Parser.Literal;
import io.corral.llamacpp.template.Parser.Macro;
import io.corral.llamacpp.template.Parser.Name;
import io.corral.llamacpp.template.Parser.Node;
import io.corral.llamacpp.template.Parser.Output;
import io.corral.llamacpp.template.Parser.SetBlock;
import io.corral.llamacpp.template.Parser.Slice;
import io.corral.llamacpp.template.Parser.Test;
import io.corral.llamacpp.template.Parser.Text;
import io.corral.llamacpp.template.Parser.Unary;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A chat template (Jinja, as a model's GGUF metadata carries it), rendered the way Hugging Face's
 * {@code apply_chat_template} renders it: Python's semantics for values ({@code str}, truthiness, {@code ==}),
 * Jinja2's scoping (a {@code set} inside a loop stays inside it; {@code namespace()} carries values out),
 * the filters, tests and string, list and dict methods that published templates use, and Hugging Face's
 * additions ({@code raise_exception}, {@code strftime_now}, {@code tojson} as {@code json.dumps}). Values passed
 * in are Java {@link String}, {@link Number}, {@link Boolean}, {@link List} and {@link Map}; null is None.
 * A template is immutable and may be rendered from several threads.
 */
public final class Template {

    private final List<Node> body;
    private final Supplier<LocalDateTime> clock;

    private Template(List<Node> body, Supplier<LocalDateTime> clock) {
        this.body = body;
        this.clock = clock;
    }

    /** Parses {@code source}; a malformed template is a {@link TemplateException} naming the line. */
    public static Template parse(String source) {
        return new Template(Parser.parse(source), LocalDateTime::now);
    }

    /** The same template, with {@code strftime_now} reading this clock (for tests). */
    public Template withClock(Supplier<LocalDateTime> now) {
        return new Template(body, now);
    }

    /** Renders with {@code variables} (for a chat: messages, tools, add_generation_prompt, bos_token, ...). */
    public String render(Map<String, ?> variables) {
        Scope globals = new Scope(null);
        globals.vars.putAll(Builtins.globals(clock));
        Scope scope = new Scope(globals);
        variables.forEach((k, v) -> scope.vars.put(k, Values.from(v)));
        StringBuilder out = new StringBuilder();
        new Run(out).nodes(body, scope);
        if (out.length() > Values.MAX_ITEMS * 8) {
            throw new TemplateException("the template rendered " + out.length() + " characters, more than a prompt can be");
        }
        return out.toString();
    }

    /** Variables by name, with the enclosing scope's behind them. */
    static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return Values.UNDEFINED;
        }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() {
            super(null, null, false, false);
        }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() {
            super(null, null, false, false);
        }
    }

    /** A macro: a function whose body renders in its own scope. */
    private final class MacroFn implements Values.Fn {
        private final Macro macro;
        private final Scope defined;
        private final Run run;

        MacroFn(Macro macro, Scope defined, Run run) {
            this.macro = macro;
            this.defined = defined;
            this.run = run;
        }

        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            return call(args, kwargs, null);
        }

        Object call(List<Object> args, Map<String, Object> kwargs, Values.Fn caller) {
            Scope s = new Scope(defined);
            for (int i = 0; i < macro.params().size(); i++) {
                String p = macro.params().get(i);
                Object v;
                if (i < args.size()) {
                    v = args.get(i);
                } else if (kwargs.containsKey(p)) {
                    v = kwargs.get(p);
                } else if (macro.defaults().get(i) != null) {
                    v = run.eval(macro.defaults().get(i), s);
                } else {
                    v = Values.UNDEFINED;
                }
                s.vars.put(p, v);
            }
            if (caller != null) {
                s.vars.put("caller", caller);
            }
            StringBuilder out = new StringBuilder();
            new Run(out).nodes(macro.body(), s);
            return out.toString();
        }
    }

    /** One rendering: writes to {@code out}. */
    private final class Run {
        private final StringBuilder out;

        Run(StringBuilder out) {
            this.out = out;
        }

        void nodes(List<Node> nodes, Scope scope) {
            for (Node n : nodes) {
                node(n, scope);
            }
        }

        void node(Node n, Scope scope) {
            switch (n) {
                case Text t -> out.append(t.text());
                case Output o -> out.append(Values.str(eval(o.value(), scope)));
                case If i -> {
                    for (int k = 0; k < i.tests().size(); k++) {
                        if (Values.truthy(eval(i.tests().get(k), scope))) {
                            nodes(i.bodies().get(k), scope);
                            return;
                        }
                    }
                    nodes(i.otherwise(), scope);
                }
                case For f -> loop(f, scope);
                case Assign a -> assign(a.target(), eval(a.value(), scope), scope);
                case SetBlock b -> {
                    StringBuilder inner = new StringBuilder();
                    new Run(inner).nodes(b.body(), scope);
                    scope.vars.put(b.name(), inner.toString());
                }
                case Macro m -> scope.vars.put(m.name(), new MacroFn(m, scope, this));
                case CallBlock c -> {
                    Object callee = eval(c.call().callee(), scope);
                    if (!(callee instanceof MacroFn m)) {
                        throw new TemplateException("{% call %} needs a macro");
                    }
                    Values.Fn caller = (args, kwargs) -> {
                        StringBuilder inner = new StringBuilder();
                        new Run(inner).nodes(c.body(), scope);
                        return inner.toString();
                    };
                    out.append(Values.str(m.call(evalAll(c.call().args(), scope), evalKw(c.call().kwargs(), scope), caller)));
                }
                case FilterBlock fb -> {
                    StringBuilder inner = new StringBuilder();
                    new Run(inner).nodes(fb.body(), scope);
                    out.append(Values.str(Builtins.filter(fb.filter().name(), inner.toString(),
                            evalAll(fb.filter().args(), scope), evalKw(fb.filter().kwargs(), scope), this::callFn)));
                }
                case Break b -> throw new BreakSignal();
                case Continue c -> throw new ContinueSignal();
            }
        }

        private void loop(For f, Scope scope) {
            List<Object> items = new ArrayList<>();
            Scope probe = new Scope(scope);
            for (Object item : Values.iterate(eval(f.iterable(), scope))) {
                if (f.filter() != null) {
                    bind(f.targets(), item, probe);
                    if (!Values.truthy(eval(f.filter(), probe))) {
                        continue;
                    }
                }
                items.add(item);
            }
            if (items.isEmpty()) {
                nodes(f.otherwise(), scope);
                return;
            }
            for (int i = 0; i < items.size(); i++) {
                Scope inner = new Scope(scope); // what the body sets stays in it, as in Jinja2
                Map<String, Object> loop = new LinkedHashMap<>();
                int n = items.size();
                loop.put("index", (long) i + 1);
                loop.put("index0", (long) i);
                loop.put("revindex", (long) (n - i));
                loop.put("revindex0", (long) (n - i - 1));
                loop.put("first", i == 0);
                loop.put("last", i == n - 1);
                loop.put("length", (long) n);
                loop.put("previtem", i > 0 ? items.get(i - 1) : Values.UNDEFINED);
                loop.put("nextitem", i < n - 1 ? items.get(i + 1) : Values.UNDEFINED);
                final int index = i;
                loop.put("cycle", (Values.Fn) (args, kwargs) -> args.isEmpty() ? Values.UNDEFINED : args.get(index % args.size()));
                inner.vars.put("loop", loop);
                bind(f.targets(), items.get(i), inner);
                try {
                    nodes(f.body(), inner);
                } catch (BreakSignal b) {
                    break;
                } catch (ContinueSignal c) {
                    // the next item
                }
            }
        }

        private void bind(List<String> targets, Object item, Scope scope) {
            if (targets.size() == 1) {
                scope.vars.put(targets.getFirst(), item);
                return;
            }
            List<Object> parts = Values.iterate(item);
            if (parts.size() != targets.size()) {
                throw new TemplateException("cannot unpack " + parts.size() + " values into " + targets);
            }
            for (int i = 0; i < targets.size(); i++) {
                scope.vars.put(targets.get(i), parts.get(i));
            }
        }

        private void assign(Expr target, Object value, Scope scope) {
            switch (target) {
                case Name n -> scope.vars.put(n.name(), value);
                case Attr a -> {
                    Object owner = eval(a.object(), scope);
                    if (owner instanceof Values.Namespace ns) {
                        ns.attrs().put(a.name(), value);
                    } else {
                        throw new TemplateException("cannot set " + a.name() + " on " + Values.typeName(owner)
                                + " (only on a namespace)");
                    }
                }
                case ListExpr l -> {
                    List<Object> parts = Values.iterate(value);
                    if (parts.size() != l.items().size()) {
                        throw new TemplateException("cannot unpack " + parts.size() + " values");
                    }
                    for (int i = 0; i < parts.size(); i++) {
                        assign(l.items().get(i), parts.get(i), scope);
                    }
                }
                default -> throw new TemplateException("cannot assign to this expression");
            }
        }

        List<Object> evalAll(List<Expr> exprs, Scope scope) {
            List<Object> values = new ArrayList<>(exprs.size());
            for (Expr e : exprs) {
                values.add(eval(e, scope));
            }
            return values;
        }

        Map<String, Object> evalKw(Map<String, Expr> exprs, Scope scope) {
            Map<String, Object> values = new LinkedHashMap<>();
            exprs.forEach((k, e) -> values.put(k, eval(e, scope)));
            return values;
        }

        Object callFn(Object fn, List<Object> args) {
            if (fn instanceof Values.Fn f) {
                return f.call(args, Map.of());
            }
            throw new TemplateException(Values.typeName(fn) + " is not callable");
        }

        Object eval(Expr e, Scope scope) {
            return switch (e) {
                case Literal l -> l.value();
                case Name n -> scope.get(n.name());
                case Attr a -> Values.attribute(eval(a.object(), scope), a.name());
                case Item i -> Values.item(eval(i.object(), scope), eval(i.key(), scope));
                case Slice s -> Values.slice(eval(s.object(), scope), s.start() == null ? null : eval(s.start(), scope),
                        s.stop() == null ? null : eval(s.stop(), scope), s.step() == null ? null : eval(s.step(), scope));
                case Call c -> {
                    Object callee = eval(c.callee(), scope);
                    if (callee instanceof Values.Fn f) {
                        yield f.call(evalAll(c.args(), scope), evalKw(c.kwargs(), scope));
                    }
                    throw new TemplateException((c.callee() instanceof Name n ? "'" + n.name() + "'"
                            : c.callee() instanceof Attr a ? "'" + a.name() + "'" : "the value") + " is not callable ("
                            + Values.typeName(callee) + ")");
                }
                case Filter f -> Builtins.filter(f.name(), eval(f.value(), scope), evalAll(f.args(), scope),
                        evalKw(f.kwargs(), scope), this::callFn);
                case Test t -> {
                    boolean r = Builtins.test(t.name(), eval(t.value(), scope), evalAll(t.args(), scope));
                    yield t.negated() != r;
                }
                case Unary u -> switch (u.op()) {
                    case "not" -> !Values.truthy(eval(u.operand(), scope));
                    case "-" -> Values.negate(eval(u.operand(), scope));
                    default -> eval(u.operand(), scope);
                };
                case Binary b -> binary(b, scope);
                case Conditional c -> Values.truthy(eval(c.test(), scope)) ? eval(c.then(), scope)
                        : c.otherwise() == null ? Values.UNDEFINED : eval(c.otherwise(), scope);
                case ListExpr l -> evalAll(l.items(), scope);
                case DictExpr d -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i < d.keys().size(); i++) {
                        m.put(Values.str(eval(d.keys().get(i), scope)), eval(d.values().get(i), scope));
                    }
                    yield m;
                }
            };
        }

        private Object binary(Binary b, Scope scope) {
            Object left = eval(b.left(), scope);
            return switch (b.op()) {
                case "and" -> Values.truthy(left) ? eval(b.right(), scope) : left;
                case "or" -> Values.truthy(left) ? left : eval(b.right(), scope);
                default -> Values.operate(b.op(), left, eval(b.right(), scope));
            };
        }
    }
}
