package io.corral.cli;

import io.corral.Corral;
import io.corral.api.ChatRequest;
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

    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Corral corral = model.open(sampling.toParams())) {
            ChatRequest.Builder request = ChatRequest.builder().sampling(corral.sampling());
            if (system != null) {
                request.system(system);
            }
            try (TokenStream stream = corral.stream(request.user(prompt).build())) {
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
