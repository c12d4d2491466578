package io.corral.cli;

import io.corral.Corral;
import io.corral.api.ChatMessage;
import io.corral.api.ChatResult;
import io.corral.api.Session;
import io.corral.api.TokenStream;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Talk with a model. Commands: /context (context use), /reset (forget the conversation),",
                "/save FILE, /image FILE (with your next message, for a model that sees images), /exit.",
                "Ctrl-C stops the current answer; Ctrl-D or /exit quits."})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--system", description = "The system prompt.")
    String system;

    @Option(names = "--resume", description = "Continue a conversation saved with /save.")
    Path resume;

    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws IOException {
        try (Terminal terminal = terminal();
             Corral corral = model.open(sampling.toParams());
             Session session = resume != null ? corral.restoreSession(resume) : corral.openSession(system)) {
            LineReader reader = LineReaderBuilder.builder().terminal(terminal)
                    .variable(LineReader.HISTORY_FILE, historyFile())
                    .build();
            PrintWriter out = terminal.writer();
            AtomicReference<TokenStream> running = new AtomicReference<>();
            // Ctrl-C stops the answer being written, on a terminal or with piped input alike
            terminal.handle(Terminal.Signal.INT, signal -> cancel(running));
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> cancel(running));
            out.println("Chatting with " + corral.models().getFirst().id() + " (" + corral.contextSize()
                    + "-token context). /exit to quit.");
            out.flush();
            java.util.List<io.corral.api.ContentPart> images = new java.util.ArrayList<>(); // for the next message
            while (true) {
                String line;
                try {
                    line = reader.readLine("> ");
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C at the prompt clears the line
                } catch (EndOfFileException e) {
                    return 0;
                }
                line = line.strip();
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("/image")) {
                    attach(line, images, out);
                    continue;
                }
                if (line.startsWith("/")) {
                    if (!command(line, session, out)) {
                        return 0;
                    }
                    continue;
                }
                java.util.List<io.corral.api.ContentPart> parts = new java.util.ArrayList<>(images);
                parts.add(io.corral.api.ContentPart.text(line));
                images.clear();
                ChatMessage message = new ChatMessage(io.corral.api.Role.USER, parts, null, null);
                TokenStream opened;
                try {
                    opened = session.stream(message);
                } catch (io.corral.api.InvalidRequestException e) { // an image the model cannot take: say so, go on
                    out.println("Not sent: " + e.getMessage());
                    out.flush();
                    continue;
                }
                try (TokenStream stream = opened) {
                    running.set(stream);
                    stream.forEachText(piece -> {
                        out.print(piece);
                        out.flush();
                    });
                    ChatResult r = stream.result();
                    out.println(r.finishReason() == io.corral.api.FinishReason.CANCELLED ? " [stopped]" : "");
                } finally {
                    running.set(null);
                }
                out.flush();
            }
        }
    }

    private static void cancel(AtomicReference<TokenStream> running) {
        TokenStream s = running.get();
        if (s != null) {
            s.cancel();
        }
    }

    /** {@code /image FILE}: the image goes with the next message. */
    private static void attach(String line, java.util.List<io.corral.api.ContentPart> images, PrintWriter out) throws IOException {
        String[] words = line.split("\\s+", 2);
        if (!words[0].equals("/image") || words.length < 2) {
            out.println("Usage: /image FILE");
        } else if (!Files.isRegularFile(Path.of(words[1]))) {
            out.println("No such file: " + words[1]);
        } else {
            images.add(io.corral.api.ContentPart.imageFile(Path.of(words[1])));
            out.println("Image " + words[1] + " goes with your next message.");
        }
        out.flush();
    }

    /** Runs a slash command; returns false to quit. */
    private static boolean command(String line, Session session, PrintWriter out) {
        String[] words = line.split("\\s+", 2);
        switch (words[0]) {
            case "/exit", "/quit" -> {
                return false;
            }
            case "/reset" -> {
                session.clear();
                out.println("Conversation cleared.");
            }
            case "/context" -> out.println("Context: " + session.contextUsage());
            case "/save" -> {
                if (words.length < 2) {
                    out.println("Usage: /save FILE");
                } else {
                    try {
                        session.save(Path.of(words[1]));
                        out.println("Saved to " + words[1] + ".");
                    } catch (java.io.UncheckedIOException | java.nio.file.InvalidPathException e) { // say so, keep chatting
                        out.println("Not saved: " + switch (e.getCause()) {
                            case java.nio.file.NoSuchFileException n -> "no folder " + Path.of(words[1]).toAbsolutePath().getParent();
                            case java.nio.file.AccessDeniedException a -> "not allowed to write " + words[1];
                            case Throwable t -> t.getMessage();
                            case null -> e.getMessage();
                        });
                    }
                }
            }
            default -> out.println("Unknown command " + words[0] + ". Commands: /context /reset /save FILE /image FILE /exit");
        }
        out.flush();
        return true;
    }

    /** The console; a plain one (no line editing) when input is piped. */
    private static Terminal terminal() throws IOException {
        return TerminalBuilder.builder().system(true).dumb(true).build();
    }

    private static Path historyFile() throws IOException {
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "corral");
        Files.createDirectories(dir);
        return dir.resolve("chat_history");
    }
}
