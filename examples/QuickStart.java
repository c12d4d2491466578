import io.corral.Corral;
import io.corral.api.ChatRequest;
import io.corral.api.SamplingParams;
import io.corral.api.Session;
import io.corral.api.TokenStream;
import io.corral.llamacpp.BundledModel;

import java.nio.file.Path;

/**
 * Corral's Java API in three steps. Run from the repository root after ./build:
 * java --enable-native-access=ALL-UNNAMED -cp corral-cli/target/corral.jar examples/QuickStart.java [model.gguf]
 */
public class QuickStart {
    public static void main(String[] args) {
        Path model = args.length > 0 ? Path.of(args[0]) : BundledModel.path();

        // 1. one line: generate once
        System.out.println(Corral.generate(model, "Once upon a time"));

        // 2. one line: a conversation that keeps its KV cache between turns
        try (Session chat = Corral.session(model)) {
            chat.send("Tell me about a cat.");
            var second = chat.send("What did it do next?");
            System.out.printf("second turn: %d prompt tokens, %d from cache; context %s%n",
                    second.usage().promptTokens(), second.usage().cachedTokens(), chat.contextUsage());
        }

        // 3. the builder: sampling, threads, context size; streaming token by token
        try (Corral corral = Corral.builder().model(model).threads(2).contextSize(512)
                .sampling(SamplingParams.builder().temperature(0).maxTokens(32).stop("\n").build())
                .build();
             TokenStream stream = corral.stream(ChatRequest.builder().user("The little dog")
                     .sampling(corral.sampling()).build())) {
            stream.forEachText(System.out::print);
            System.out.println();
            System.out.println(stream.result().metrics());
        }
    }
}
