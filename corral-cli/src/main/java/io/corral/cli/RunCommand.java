package io.corral.cli;

import io.corral.Corral;
import io.corral.api.ChatMessage;
import io.corral.api.ChatRequest;
import io.corral.api.ContentPart;
import io.corral.api.Role;
import io.corral.api.TokenStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Generate once from PROMPT and stream the answer to stdout.")
final class RunCommand implements Callable<Integer> {

    @Parameters(paramLabel = "PROMPT", description = "The prompt (for a base model, the text to continue).")
    String prompt;

    @Option(names = "--system", description = "A system prompt.")
    String system;

    @Option(names = "--image", paramLabel = "FILE", description = "An image (PNG, JPEG, GIF, BMP) before the prompt, for a"
            + " model that sees images (one with a projector); repeat for several.")
    java.util.List<java.nio.file.Path> images = new java.util.ArrayList<>();

    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        PrintWriter out = spec.commandLine().getOut();
        java.util.List<ContentPart> parts = new java.util.ArrayList<>();
        for (java.nio.file.Path image : images) {
            if (!java.nio.file.Files.isRegularFile(image)) {
                throw new io.corral.api.InvalidRequestException("image", "--image " + image + ": no such file");
            }
            parts.add(ContentPart.imageFile(image));
        }
        parts.add(ContentPart.text(prompt));
        try (Corral corral = model.open(sampling.toParams())) {
            ChatRequest.Builder request = ChatRequest.builder().sampling(corral.sampling());
            if (system != null) {
                request.system(system);
            }
            request.message(new ChatMessage(Role.USER, parts, null, null));
            try (TokenStream stream = corral.stream(request.build())) {
                stream.forEachText(piece -> {
                    out.print(piece);
                    out.flush();
                });
            }
            out.println();
            out.flush();
        }
        return 0;
    }
}
