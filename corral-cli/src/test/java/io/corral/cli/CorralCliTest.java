package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The corral command, run in-process on the real bundled model. */
class CorralCliTest {

    static final String REFERENCE = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";

    record Run(int exit, String out, String err) {
    }

    static Run corral(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = CorralCli.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static Path stories() {
        return Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf");
    }

    @Test
    void run_greedy_printsExactlyTheReference() {
        Run r = corral("run", "--temperature", "0", "--max-tokens", "64", "Once upon a time");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo(REFERENCE + System.lineSeparator());
        assertThat(r.err()).isEmpty();
    }

    @Test
    void run_withStopAndModelFlags() {
        Run r = corral("run", "-m", stories().toString(), "--threads", "1", "--temperature", "0",
                "--stop", "park", "Once upon a time");
        assertThat(r.out()).isEqualTo(", there was a little girl named Lily. She loved to play outside in the "
                + System.lineSeparator());
    }

    static Path png(Path file, long seed) throws java.io.IOException {
        return Files.write(file, io.corral.gguf.TinyProjector.png(seed, 24, 24));
    }

    @Test
    void run_withImages_andAProjector_answersEachImageInItsOwnWay(@TempDir Path dir) throws java.io.IOException {
        Path projector = io.corral.gguf.TinyProjector.write(dir.resolve("tiny.mmproj.gguf"), 64);
        String[] common = {"run", "--mmproj", projector.toString(), "--threads", "1", "--temperature", "0", "-n", "12"};
        Run a = corral(concat(common, "--image", png(dir.resolve("a.png"), 1).toString(), "Tell me a story."));
        Run b = corral(concat(common, "--image", png(dir.resolve("b.png"), 2).toString(), "Tell me a story."));
        assertThat(a.exit()).as(a.err()).isZero();
        assertThat(b.exit()).as(b.err()).isZero();
        assertThat(a.out()).isNotBlank().isNotEqualTo(b.out());
        Run plain = corral("run", "--threads", "1", "--temperature", "0", "-n", "8", "Tell me a story.");
        assertThat(a.out()).isNotEqualTo(plain.out()); // the image took part
        // a projector beside the model is found without --mmproj, and show tells of it
        Path model = Files.copy(stories(), dir.resolve("story.gguf"));
        Files.copy(projector, dir.resolve("story.mmproj.gguf"));
        Run beside = corral("run", "-m", model.toString(), "--threads", "1", "--temperature", "0", "-n", "12",
                "--image", dir.resolve("a.png").toString(), "Tell me a story.");
        assertThat(beside.out()).isEqualTo(a.out());
        Run show = corral("show", model.toString());
        assertThat(show.out()).contains("Projector (sees images)").containsPattern("type +mlp")
                .containsPattern("image size +32");
    }

    @Test
    void run_withAnImage_butNoProjector_orNoFile_isAOneLineError(@TempDir Path dir) throws java.io.IOException {
        Run r = corral("run", "--image", png(dir.resolve("a.png"), 1).toString(), "hi");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("corral: ").contains("does not accept images").doesNotContain("Exception");
        Run missing = corral("run", "--image", dir.resolve("none.png").toString(), "hi");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("corral: --image " + dir.resolve("none.png") + ": no such file" + System.lineSeparator());
    }

    static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void run_badSamplingValue_isAOneLineError() {
        Run r = corral("run", "--top-p", "2", "hi");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("corral: top_p must be in (0, 1], was 2.0" + System.lineSeparator());
    }

    @Test
    void check_goodFile_printsMetadata_andExitsZero() {
        Run r = corral("check", "--model", stories().toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("architecture:     llama").contains("context_length:   512")
                .contains("parameters:       292800").contains("chat_template:    false").contains("ok: ");
        // where it runs: this machine has no GPU, so the CPU, none of its 5 blocks and output layer offloaded
        assertThat(r.out()).contains("llama_cpp:        0.5.0 (linux-x64)").contains("device:           CPU")
                .contains("gpu_layers:       0/6").contains("device_memory:    0 bytes");
    }

    @Test
    void serve_aCertificateWithoutItsKey_isAUsageError() {
        Run r = corral("serve", "--port", "0", "--tls-cert", stories().toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("TLS needs both a certificate (tls_cert) and its key (tls_key)");
    }

    @Test
    void check_gpuOptions_areCheckedAndNamed() {
        Run bad = corral("check", "--model", stories().toString(), "--split-mode", "diagonal");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).isEqualTo("corral: split_mode must be none, layer or row, was 'diagonal'" + System.lineSeparator());
        Run none = corral("check", "--model", stories().toString(), "--no-gpu", "--gpu-layers", "3");
        assertThat(none.exit()).isZero();
        assertThat(none.out()).contains("gpu_layers:       0/6").contains("gpu_fallback:     no_gpu");
    }

    @Test
    void check_badFiles_exitNonZeroWithOneLine(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("t.gguf"), "not a model");
        Path empty = Files.createFile(dir.resolve("e.gguf"));
        byte[] all = Files.readAllBytes(stories());
        Path cut = Files.write(dir.resolve("c.gguf"), java.util.Arrays.copyOf(all, all.length - 10));
        for (Path bad : new Path[]{text, empty, cut, dir.resolve("missing.gguf")}) {
            Run r = corral("check", "--model", bad.toString());
            assertThat(r.exit()).as(bad.toString()).isEqualTo(1);
            assertThat(r.err()).startsWith("corral: ").endsWith(System.lineSeparator());
            assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void check_withoutAFile_isAUsageError() {
        Run r = corral("check");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--model");
    }

    @Test
    void models_json_listsTheBundledModelWithMetadata() throws Exception {
        Run r = corral("models", "--json");
        assertThat(r.exit()).isZero();
        JsonNode m = new ObjectMapper().readTree(r.out()).get("models").get(0);
        assertThat(m.get("id").asText()).isEqualTo("stories260K");
        assertThat(m.get("architecture").asText()).isEqualTo("llama");
        assertThat(m.get("context_length").asInt()).isEqualTo(512);
        assertThat(m.get("vocab_size").asInt()).isEqualTo(512);
        assertThat(m.get("quantization").asText()).isEqualTo("F32");
    }

    @Test
    void models_table() {
        Run r = corral("models");
        assertThat(r.out()).contains("stories260K").contains("292.8K").contains("no (base model)");
    }

    @Test
    void help_isThereOnEveryCommand() {
        for (String c : new String[]{"run", "chat", "models", "check"}) {
            Run r = corral(c, "--help");
            assertThat(r.exit()).isZero();
            assertThat(r.out()).startsWith("Usage: corral " + c);
        }
        assertThat(corral("--help").out()).contains("run").contains("chat").contains("models").contains("check");
    }

    @Test
    void missingNativeLibraries_isAOneLineError(@TempDir Path empty) throws Exception {
        Process p = corralProcess(List.of("-Dcorral.llama.lib.dir=" + empty), "run", "hello").start();
        String screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(screen.strip()).startsWith("corral: llama.cpp library").contains("not found in " + empty)
                .contains("CORRAL_LLAMA_LIB_DIR").doesNotContain("\n").doesNotContain("Exception");
    }

    /** Runs {@code corral chat} as its own process, typing into its standard input. */
    @Test
    void chat_repl_answers_andHandlesItsCommands(@TempDir Path dir) throws Exception {
        String script = String.join("\n", "/context", "Hello there.", "/context", "/bogus",
                "/save " + dir.resolve("no/such/dir/s.session"), "/save " + dir.resolve("s.session"), "/reset", "/context", "/exit", "");
        Process p = corralProcess(List.of(), "chat", "--system", "Be kind.", "--temperature", "0", "-n", "16").start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(screen).isZero();
        assertThat(screen).contains("Chatting with stories260K (512-token context)");
        assertThat(screen).doesNotContain("WARNING").doesNotContain("Exception");
        assertThat(screen).contains("Unknown command /bogus");
        assertThat(screen).contains("Not saved: ").contains("Saved to " + dir.resolve("s.session")); // a failed save ends nothing
        assertThat(screen).contains("Conversation cleared.");
        assertThat(Files.exists(dir.resolve("s.session"))).isTrue();
        // context use grows after the answer and drops back after /reset
        var m = java.util.regex.Pattern.compile("Context: (\\d+) / 512 tokens").matcher(screen);
        java.util.List<Integer> used = new java.util.ArrayList<>();
        while (m.find()) {
            used.add(Integer.parseInt(m.group(1)));
        }
        assertThat(used).as(screen).hasSize(3);
        assertThat(used.get(1)).isGreaterThan(used.get(0) + 16);
        assertThat(used.get(2)).isEqualTo(used.get(0));
    }

    @Test
    void chat_repl_sendsAnImageWithTheNextMessage(@TempDir Path dir) throws Exception {
        Path projector = io.corral.gguf.TinyProjector.write(dir.resolve("tiny.mmproj.gguf"), 64);
        Path image = png(dir.resolve("a.png"), 1);
        String withProjector = chat(dir, List.of("--mmproj", projector.toString()), "/image " + image, "/image " + dir.resolve("none.png"),
                "Tell me a story.", "/context", "/exit");
        assertThat(withProjector).contains("Image " + image + " goes with your next message.")
                .contains("No such file: " + dir.resolve("none.png")).doesNotContain("Not sent").doesNotContain("Exception");
        String plain = chat(dir, List.of(), "Tell me a story.", "/context", "/exit");
        var used = java.util.regex.Pattern.compile("Context: (\\d+) / 512 tokens");
        var a = used.matcher(withProjector);
        var b = used.matcher(plain);
        assertThat(a.find() && b.find()).as(withProjector + plain).isTrue();
        // the image's 16 slots, and the text split around it may take a token more
        assertThat(Integer.parseInt(a.group(1)) - Integer.parseInt(b.group(1)))
                .isBetween(io.corral.gguf.TinyProjector.TOKENS, io.corral.gguf.TinyProjector.TOKENS + 2);
        String refused = chat(dir, List.of(), "/image " + image, "Tell me a story.", "/exit");
        assertThat(refused).contains("Not sent: model stories260K does not accept images");
    }

    /** {@code corral ARGS} as its own process on the test's class path, with JVM options {@code jvm}; output and errors merged. */
    static ProcessBuilder corralProcess(List<String> jvm, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvm);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CorralCli.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true);
    }

    /**
     * A command that needs no JSON starts without building Jackson's mapper: picocli makes every command to build its
     * tree, and a command's static mapper was a tenth of a second of class loading in the start of each (0.37 s for
     * {@code --version} against 0.23 s without).
     */
    @Test
    void commandsThatNeedNoJson_startWithoutJackson() throws Exception {
        for (String[] args : List.of(new String[]{"--version"}, new String[]{"pull", "--help"})) {
            Process p = corralProcess(List.of("-Xlog:class+load=info:stdout"), args).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).isZero();
            assertThat(log).as(String.join(" ", args)).contains(" io.corral.cli.IngestCommand ")
                    .doesNotContain(" com.fasterxml.jackson.databind.ObjectMapper ");
        }
    }

    /** A projector that is no GGUF: one line on stderr, llama.cpp's own errors inside it, not printed again. */
    @Test
    void run_withABadProjector_isAOneLineError(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.mmproj.gguf"), "not a projector");
        // a 1 MiB young generation: collections all along, so java.util.logging's weak hold on the quieted llama.cpp logger is tested
        Process p = corralProcess(List.of("-Xmx96m", "-Xmn1m", "-XX:+UseSerialGC"), "run", "--mmproj", bad.toString(), "-n", "4", "hi").start();
        String screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(screen.strip()).startsWith("corral: cannot load the projector " + bad).contains("expected 'GGUF'")
                .doesNotContain("\n").doesNotContain("WARNING").doesNotContain("Exception");
    }

    /** {@code corral chat} with {@code flags} as its own process, typing {@code lines}; returns its screen. */
    static String chat(Path dir, List<String> flags, String... lines) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("chat", "--temperature", "0", "-n", "8"));
        args.addAll(flags);
        Process p = corralProcess(List.of(), args.toArray(String[]::new)).start();
        p.getOutputStream().write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(screen).isZero();
        return screen;
    }

    @Test
    void chat_ctrlC_stopsTheAnswer_notTheProgram() throws Exception {
        Process p = corralProcess(List.of(), "chat", "--temperature", "0", "-n", "0", "-c", "512").start();
        var stdin = p.getOutputStream();
        stdin.write("Tell me a story.\n".getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        var in = p.getInputStream();
        StringBuilder screen = new StringBuilder();
        while (screen.indexOf("> ") < 0 || screen.length() < screen.indexOf("> ") + 40) { // the answer has begun
            int c = in.read();
            assertThat(c).as(screen.toString()).isNotNegative();
            screen.append((char) c);
        }
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        while (screen.indexOf("[stopped]") < 0) { // the answer is stopped before the next command is typed
            int c = in.read();
            assertThat(c).as(screen.toString()).isNotNegative();
            screen.append((char) c);
        }
        stdin.write("/context\n/exit\n".getBytes(StandardCharsets.UTF_8));
        stdin.close();
        screen.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        assertThat(p.waitFor()).as(screen.toString()).isZero();
        assertThat(screen).contains("[stopped]").contains("Context: ");
    }

    /** With a server running, a backup is asked of it (it copies while serving), and a restore refuses to run. */
    @Test
    void backup_goesThroughARunningServer_andRestoreRefusesWhileOneAnswers(@TempDir Path dir) throws Exception {
        String before = System.getProperty("corral.cache");
        System.setProperty("corral.cache", dir.resolve("cache").toString());
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--port", "0", "--health-interval", "0", "--shutdown-grace", "1");
        try (ServeCommand.Served served = serve.start()) {
            String url = served.server().url();
            Run backup = corral("backup", dir.resolve("backup").toString(), "--url", url);
            assertThat(backup.exit()).as(backup.err()).isZero();
            assertThat(backup.out()).contains("backed up through the server at " + url);
            assertThat(dir.resolve("backup").resolve("kvstore.db")).isRegularFile();
            Run again = corral("backup", dir.resolve("second").toString(), "--url", url, "--api-key", "k");
            assertThat(again.exit()).as(again.err()).isZero(); // no keys configured: any key is the one tenant
            Run restore = corral("restore", dir.resolve("backup").toString(), "--url", url);
            assertThat(restore.exit()).isNotZero();
            assertThat(restore.err()).contains("a server answers at " + url + ": stop it first");
        } finally {
            if (before == null) {
                System.clearProperty("corral.cache");
            } else {
                System.setProperty("corral.cache", before);
            }
        }
    }

    @Test
    void ingest_direct_followsTheFolder_andExits1NamingAFileThatFailed(@TempDir Path dir) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("kb"));
        Files.writeString(folder.resolve("wing.txt"), "Swept wings lose lift at high angles of attack.");
        Files.write(folder.resolve("photo.png"), new byte[]{(byte) 0x89, 'P', 'N', 'G', 0});
        String before = System.getProperty("corral.cache");
        System.setProperty("corral.cache", dir.resolve("cache").toString());
        try {
            Run first = corral("ingest", folder.toString(), "--store", "kb", "--direct");
            assertThat(first.exit()).as(first.err()).isEqualTo(1);
            assertThat(first.out()).contains("kb: 2 new, 0 changed, 0 removed, 0 unchanged; 2 files in the store, 1 failed")
                    .contains("failed photo.png: cannot read .png files");
            Files.delete(folder.resolve("photo.png"));
            Run second = corral("ingest", folder.toString(), "--store", "kb", "--direct");
            assertThat(second.exit()).as(second.err()).isZero();
            assertThat(second.out()).contains("kb: 0 new, 0 changed, 1 removed, 1 unchanged; 1 files in the store, 0 failed");
            Run backup = corral("backup", dir.resolve("backup").toString(), "--url", "http://127.0.0.1:1");
            assertThat(backup.exit()).as(backup.err()).isZero();
            assertThat(backup.out()).contains("backed up directly into");
            Files.writeString(folder.resolve("later.txt"), "Added after the backup.");
            assertThat(corral("ingest", folder.toString(), "--store", "kb", "--direct").out()).contains("kb: 1 new");
            Run restore = corral("restore", dir.resolve("backup").toString(), "--url", "http://127.0.0.1:1");
            assertThat(restore.exit()).as(restore.err()).isZero();
            Run afterRestore = corral("ingest", folder.toString(), "--store", "kb", "--direct");
            assertThat(afterRestore.out()).as("the restored store had wing.txt, not later.txt")
                    .contains("kb: 1 new, 0 changed, 0 removed, 1 unchanged; 2 files in the store, 0 failed");
            Path to = Files.writeString(dir.resolve("to.yaml"), """
                    providers:
                      inference:
                        - provider_id: st
                          provider_type: inline::sentence-transformers
                      vector_io:
                        - provider_id: big
                          provider_type: inline::lucene
                          config: {path: '%s'}
                      storage:
                        - provider_id: state
                          provider_type: inline::sqlite
                          config: {db_path: '%s'}
                    """.formatted(dir.resolve("moved/vector_io"), dir.resolve("moved/kvstore.db")));
            Run migrate = corral("migrate", "--to", to.toString());
            assertThat(migrate.exit()).as(migrate.err()).isZero();
            assertThat(migrate.out()).contains("kb: 2 chunks -> 2, searches agree");
            Run missing = corral("ingest", dir.resolve("nope").toString(), "--store", "kb", "--direct");
            assertThat(missing.exit()).isEqualTo(2);
            assertThat(missing.err()).contains("is not a folder");
            Run badId = corral("ingest", folder.toString(), "--store", "no spaces!", "--direct");
            assertThat(badId.exit()).isEqualTo(2);
            assertThat(badId.err()).contains("--store: a vector store id is").doesNotContain("Exception");
        } finally {
            if (before == null) {
                System.clearProperty("corral.cache");
            } else {
                System.setProperty("corral.cache", before);
            }
        }
    }

    @Test
    void pull_keepsAModelUnderAName_thatRunAccepts_andRmRemoves(@TempDir Path dir) throws Exception {
        byte[] gguf = Files.readAllBytes(stories());
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/models/stories.gguf", ex -> {
            ex.sendResponseHeaders(200, gguf.length);
            ex.getResponseBody().write(gguf);
            ex.close();
        });
        http.start();
        String before = System.getProperty("corral.cache");
        System.setProperty("corral.cache", dir.resolve("cache").toString());
        try {
            String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(gguf));
            Run pulled = corral("pull", "http://127.0.0.1:" + http.getAddress().getPort() + "/models/stories.gguf", "--name", "tiny",
                    "--sha256", sha);
            assertThat(pulled.exit()).as(pulled.err()).isZero();
            assertThat(pulled.out()).contains("pulled tiny").contains(sha.substring(0, 12)).contains("100%");
            assertThat(corral("list").out()).contains("tiny").contains(sha.substring(0, 12));
            Run show = corral("show", "tiny");
            assertThat(show.exit()).as(show.err()).isZero();
            assertThat(show.out()).contains("    architecture       llama").contains("    parameters         292.8K")
                    .contains("    context length     512").contains("    quantization       F32")
                    .contains("(none: a base model").contains("    sha256             " + sha)
                    .contains("    source             http://127.0.0.1:");
            Run noSuch = corral("show", "nothing");
            assertThat(noSuch.exit()).isEqualTo(1);
            assertThat(noSuch.err()).isEqualTo("corral: no pulled model or file 'nothing' (corral list shows the pulled ones)"
                    + System.lineSeparator());
            Run run = corral("run", "-m", "tiny", "--threads", "1", "--temperature", "0", "-n", "8", "Once upon a time");
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.out()).isNotBlank();
            assertThat(corral("rm", "tiny").exit()).isZero();
            assertThat(corral("list").out()).doesNotContain("tiny");
            Run gone = corral("run", "-m", "tiny", "--threads", "1", "Once");
            assertThat(gone.exit()).isNotZero();
        } finally {
            http.stop(0);
            if (before == null) {
                System.clearProperty("corral.cache");
            } else {
                System.setProperty("corral.cache", before);
            }
        }
    }

    @Test
    void ps_listsWhatARunningServerHasLoaded_withProcessorAndUntilWhen() throws Exception {
        io.corral.engines.OnDemand onDemand = new io.corral.engines.OnDemand(() -> java.util.List.of("tiny"),
                n -> n.equals("tiny") ? java.util.Optional.of(stories()) : java.util.Optional.empty(),
                (name, file) -> io.corral.llamacpp.LlamaCppEngine.open(io.corral.llamacpp.LlamaCppConfig.of(file).withId(name).withThreads(1)),
                java.time.Duration.ofMinutes(5), 1L << 30, java.time.Duration.ZERO, System::nanoTime, java.time.Clock.systemUTC());
        try (onDemand; io.corral.server.CorralServer server = io.corral.server.CorralServer.builder(
                io.corral.server.ServerConfig.defaults().withPort(0)).onDemand(onDemand).start()) {
            Run empty = corral("ps", "--url", server.url());
            assertThat(empty.exit()).as(empty.err()).isZero();
            assertThat(empty.out().lines()).singleElement().asString().startsWith("NAME");
            onDemand.get("tiny");
            Run ps = corral("ps", "--url", server.url());
            assertThat(ps.out().lines()).hasSize(2);
            assertThat(ps.out().lines().toList().get(1)).startsWith("tiny").contains("100% CPU")
                    .containsPattern("[45] minutes from now");
        }
        Run down = corral("ps", "--url", "http://127.0.0.1:1");
        assertThat(down.exit()).isEqualTo(1);
        assertThat(down.err()).startsWith("corral: no Corral server at http://127.0.0.1:1");
        assertThat(PsCommand.processor(1000, 0)).isEqualTo("100% CPU");
        assertThat(PsCommand.processor(1000, 1000)).isEqualTo("100% GPU");
        assertThat(PsCommand.processor(1000, 480)).isEqualTo("52%/48% CPU/GPU");
        java.time.Instant now = java.time.Instant.parse("2026-11-28T00:00:00Z");
        assertThat(PsCommand.until("2318-06-12T00:00:00Z", now)).isEqualTo("Forever");
        assertThat(PsCommand.until("2026-11-28T00:00:42Z", now)).isEqualTo("42 seconds from now");
        assertThat(PsCommand.until("2026-11-28T00:04:50Z", now)).isEqualTo("5 minutes from now");
        assertThat(PsCommand.until("2026-11-28T05:00:00Z", now)).isEqualTo("5 hours from now");
    }
}
