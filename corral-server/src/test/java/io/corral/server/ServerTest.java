package io.corral.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.corral.server.http.Json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real server on an ephemeral port with the real model, driven by OpenAI's official Java SDK and raw HTTP. */
class ServerTest {

    static final String REFERENCE = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";
    static CorralServer server;
    static OpenAIClient openai;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static Path stories() {
        return Path.of(System.getProperty("corral.root", ".")).toAbsolutePath()
                .resolveSibling("shared").resolve("models/stories260K.gguf");
    }

    @BeforeAll
    static void start() {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(stories()).withThreads(1).withParallel(2));
        server = CorralServer.start(ServerConfig.defaults().withPort(0).withLimits(64 * 1024, 4), List.of(engine));
        openai = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static ChatCompletionCreateParams.Builder greedy(String prompt, int maxTokens) {
        return ChatCompletionCreateParams.builder().model("stories260K").addUserMessage(prompt)
                .temperature(0.0).maxCompletionTokens(maxTokens);
    }

    @Test
    void models_listAndGet() {
        var models = openai.models().list();
        assertThat(models.data()).extracting(m -> m.id()).containsExactly("stories260K");
        assertThat(openai.models().retrieve("stories260K").id()).isEqualTo("stories260K");
        assertThatThrownBy(() -> openai.models().retrieve("nope")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void chat_greedy_isTheReference_withUsage() {
        ChatCompletion c = openai.chat().completions().create(greedy("Once upon a time", 64).build());
        assertThat(c.choices().getFirst().message().content()).contains(REFERENCE);
        assertThat(c.choices().getFirst().finishReason().asString()).isEqualTo("length");
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(64);
        assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(5);
        assertThat(c.model()).isEqualTo("stories260K");
    }

    @Test
    void concurrentStreams_decodedTogether_eachGiveTheirOwnText_andAResentChatReportsCachedTokens() throws Exception {
        List<String> prompts = List.of("Once upon a time", "The dog ran to the park", "Lily and Ben", "One day, a little bird");
        List<String> alone = new java.util.ArrayList<>();
        for (String p : prompts) {
            alone.add(openai.chat().completions().create(greedy(p, 40).build()).choices().getFirst().message().content().orElseThrow());
        }
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<String>> streamed = new java.util.ArrayList<>();
            for (String p : prompts) {
                streamed.add(pool.submit(() -> {
                    StringBuilder text = new StringBuilder();
                    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(greedy(p, 40).build())) {
                        s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
                    }
                    return text.toString();
                }));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(streamed.get(i).get()).isEqualTo(alone.get(i));
            }
        }
        // a stateless client sends the chat again with its answer and a new message: the earlier turn is cached
        // (with a system message: the bundled base model completes a lone user message as plain text)
        ChatCompletion first = openai.chat().completions().create(greedy("Tell me about a frog.", 24)
                .messages(List.of()).addSystemMessage("A story for children.").addUserMessage("Tell me about a frog.").build());
        ChatCompletion second = openai.chat().completions().create(greedy("Tell me about a frog.", 24)
                .messages(List.of()).addSystemMessage("A story for children.").addUserMessage("Tell me about a frog.")
                .addAssistantMessage(first.choices().getFirst().message().content().orElseThrow())
                .addUserMessage("What did the frog eat?").build());
        long cached = second.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
        assertThat(cached).isGreaterThanOrEqualTo(first.usage().orElseThrow().promptTokens());
    }

    @Test
    void streaming_equalsTheNonStreamedText() {
        StringBuilder text = new StringBuilder();
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(greedy("Once upon a time", 64).build())) {
            for (var chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                for (var choice : chunk.choices()) {
                    choice.delta().content().ifPresent(text::append);
                }
                chunks++;
            }
        }
        assertThat(text.toString()).isEqualTo(REFERENCE);
        assertThat(chunks).isGreaterThan(40);
    }

    @Test
    void completions_textCompletion() {
        Completion c = openai.completions().create(CompletionCreateParams.builder().model("stories260K")
                .prompt("Once upon a time").temperature(0.0).maxTokens(64L).build());
        assertThat(c.choices().getFirst().text()).isEqualTo(REFERENCE);
    }

    @Test
    void completions_withEcho_beginWithTheirPrompt_wholeAndStreamed() throws Exception {
        CompletionCreateParams ask = CompletionCreateParams.builder().model("stories260K").prompt("Once upon a time")
                .temperature(0.0).maxTokens(64L).echo(true).build();
        assertThat(openai.completions().create(ask).choices().getFirst().text()).isEqualTo("Once upon a time" + REFERENCE);
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = openai.completions().createStreaming(ask)) {
            s.stream().forEach(c -> c.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertThat(streamed.toString()).isEqualTo("Once upon a time" + REFERENCE);
        // what is not done is refused, not ignored
        for (String[] bad : new String[][]{{"\"best_of\":3", "best_of"}, {"\"suffix\":\" The end.\"", "suffix"},
                {"\"echo\":true,\"logprobs\":1", "echo"}, {"\"echo\":\"yes\"", "echo"}}) {
            HttpResponse<String> r = post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"a\",\"max_tokens\":2," + bad[0] + "}");
            assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
            assertThat(json(r).at("/error/param").asText()).as(bad[0]).isEqualTo(bad[1]);
        }
        HttpResponse<String> tokens = post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":[1,2],\"max_tokens\":2,\"echo\":true}");
        assertThat(json(tokens).at("/error/param").asText()).isEqualTo("echo");
    }

    @Test
    void jsonSchemaOutput_parsesAndValidates() throws Exception {
        var schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of(
                        "name", Map.of("type", "string", "maxLength", 10),
                        "age", Map.of("type", "integer"))))
                .putAdditionalProperty("required", JsonValue.from(List.of("name", "age")))
                .build();
        ChatCompletion c = openai.chat().completions().create(greedy("Describe Lily.", 200)
                .responseFormat(ResponseFormatJsonSchema.builder().jsonSchema(
                        ResponseFormatJsonSchema.JsonSchema.builder().name("person").schema(schema).build()).build())
                .build());
        JsonNode doc = Json.MAPPER.readTree(c.choices().getFirst().message().content().orElseThrow());
        assertThat(doc.get("name").isTextual()).isTrue();
        assertThat(doc.get("name").asText().length()).isLessThanOrEqualTo(10);
        assertThat(doc.get("age").isIntegralNumber()).isTrue();
        assertThat(doc.size()).isEqualTo(2);
    }

    static com.openai.models.chat.completions.ChatCompletionTool weatherTool() {
        return com.openai.models.chat.completions.ChatCompletionTool.ofFunction(
                com.openai.models.chat.completions.ChatCompletionFunctionTool.builder().function(
                        com.openai.models.FunctionDefinition.builder().name("get_weather").description("Weather in a city")
                                .parameters(com.openai.models.FunctionParameters.builder()
                                        .putAdditionalProperty("type", JsonValue.from("object"))
                                        .putAdditionalProperty("properties", JsonValue.from(Map.of(
                                                "city", Map.of("type", "string", "maxLength", 12),
                                                "unit", Map.of("enum", List.of("celsius", "fahrenheit")))))
                                        .putAdditionalProperty("required", JsonValue.from(List.of("city", "unit")))
                                        .build())
                                .build()).build());
    }

    @Test
    void toolCall_roundTrip() throws Exception {
        var named = com.openai.models.chat.completions.ChatCompletionNamedToolChoice.builder()
                .function(com.openai.models.chat.completions.ChatCompletionNamedToolChoice.Function.builder()
                        .name("get_weather").build()).build();
        ChatCompletionCreateParams ask = greedy("What is the weather in Paris?", 200)
                .tools(List.of(weatherTool())).toolChoice(named).build();
        ChatCompletion c = openai.chat().completions().create(ask);
        var choice = c.choices().getFirst();
        assertThat(choice.finishReason().asString()).isEqualTo("tool_calls");
        var call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("get_weather");
        JsonNode args = Json.MAPPER.readTree(call.function().arguments());
        assertThat(args.get("city").asText().length()).isLessThanOrEqualTo(12);
        assertThat(args.get("unit").asText()).isIn("celsius", "fahrenheit");
        assertThat(call.id()).startsWith("call_");

        // the tool's answer goes back, and the model answers in text
        ChatCompletion answer = openai.chat().completions().create(greedy("What is the weather in Paris?", 20)
                .tools(List.of(weatherTool()))
                .addMessage(choice.message())
                .addMessage(com.openai.models.chat.completions.ChatCompletionToolMessageParam.builder()
                        .toolCallId(call.id()).content("Sunny, 21 degrees").build())
                .build());
        assertThat(answer.choices().getFirst().finishReason().asString()).isIn("length", "stop");
        assertThat(answer.choices().getFirst().message().content()).isPresent();
    }

    @Test
    void requiredToolCall_streamed_asArgumentFragments_thatJoinToTheWholeAnswersCall() throws Exception {
        ChatCompletionCreateParams ask = greedy("Weather?", 200).tools(List.of(weatherTool()))
                .toolChoice(com.openai.models.chat.completions.ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
        List<String> names = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        List<String> fragments = new ArrayList<>();
        List<String> finish = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(ask)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().toolCalls().ifPresent(calls -> calls.forEach(tc -> {
                    assertThat(tc.index()).isZero();
                    tc.id().ifPresent(ids::add);
                    tc.function().flatMap(f -> f.name()).ifPresent(names::add);
                    tc.function().flatMap(f -> f.arguments()).filter(a -> !a.isEmpty()).ifPresent(fragments::add);
                }));
                ch.finishReason().ifPresent(f -> finish.add(f.asString()));
            }));
        }
        assertThat(names).containsExactly("get_weather");
        assertThat(ids).hasSize(1).allSatisfy(id -> assertThat(id).startsWith("call_"));
        assertThat(finish).containsExactly("tool_calls");
        assertThat(fragments).hasSizeGreaterThan(2); // streamed as the model writes it, not whole at the end
        JsonNode streamed = Json.MAPPER.readTree(String.join("", fragments));
        assertThat(streamed.get("unit").asText()).isIn("celsius", "fahrenheit");
        // greedy: the same call as the whole answer's
        var whole = openai.chat().completions().create(ask).choices().getFirst().message().toolCalls().orElseThrow()
                .getFirst().asFunction().function().arguments();
        assertThat(streamed).isEqualTo(Json.MAPPER.readTree(whole));
    }

    @Test
    void toolChoiceNamingAnUnknownTool_is400() {
        var named = com.openai.models.chat.completions.ChatCompletionNamedToolChoice.builder()
                .function(com.openai.models.chat.completions.ChatCompletionNamedToolChoice.Function.builder()
                        .name("nope").build()).build();
        assertThatThrownBy(() -> openai.chat().completions().create(greedy("x", 5).tools(List.of(weatherTool()))
                .toolChoice(named).build())).isInstanceOf(BadRequestException.class).hasMessageContaining("tool_choice");
    }

    @Test
    void embeddings_floatAndBase64_agree_andSimilarTextsAreCloser() throws Exception {
        var e = openai.embeddings().create(com.openai.models.embeddings.EmbeddingCreateParams.builder()
                .model("stories260K").inputOfArrayOfStrings(List.of("The cat sat on the mat.", "A cat sat on a mat.",
                        "Numbers: 42, 17, 99, 3.14")).build());
        assertThat(e.data()).hasSize(3);
        List<Float> a = e.data().get(0).embedding();
        List<Float> b = e.data().get(1).embedding();
        List<Float> c = e.data().get(2).embedding();
        assertThat(a).hasSize(64);
        assertThat(dot(a, b)).isGreaterThan(dot(a, c));
        assertThat(dot(a, a)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));

        HttpResponse<String> f = post("/v1/embeddings", "{\"model\":\"stories260K\",\"input\":\"The cat sat on the mat.\"}");
        HttpResponse<String> b64 = post("/v1/embeddings",
                "{\"model\":\"stories260K\",\"input\":\"The cat sat on the mat.\",\"encoding_format\":\"base64\"}");
        JsonNode floats = json(f).at("/data/0/embedding");
        byte[] raw = java.util.Base64.getDecoder().decode(json(b64).at("/data/0/embedding").asText());
        java.nio.FloatBuffer fb = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        assertThat(fb.remaining()).isEqualTo(64);
        for (int i = 0; i < 64; i++) {
            assertThat(fb.get(i)).isEqualTo((float) floats.get(i).asDouble());
            assertThat(fb.get(i)).isCloseTo(a.get(i), org.assertj.core.data.Offset.offset(1e-5f)); // a was one of a batch
        }
        assertThat(json(f).at("/usage/prompt_tokens").asInt()).isPositive();
        assertThat(post("/v1/embeddings", "{\"model\":\"stories260K\",\"input\":[]}").statusCode()).isEqualTo(400);

        var shorter = openai.embeddings().create(com.openai.models.embeddings.EmbeddingCreateParams.builder()
                .model("stories260K").inputOfArrayOfStrings(List.of("The cat sat on the mat.")).dimensions(16).build());
        assertThat(shorter.data().getFirst().embedding()).hasSize(16);
        HttpResponse<String> tooMany = post("/v1/embeddings", "{\"model\":\"stories260K\",\"input\":\"x\",\"dimensions\":65}");
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(json(tooMany).at("/error/param").asText()).isEqualTo("dimensions");
        assertThat(json(post("/v1/embeddings", "{\"model\":\"stories260K\",\"input\":\"x\",\"dimensions\":\"16\"}"))
                .at("/error/param").asText()).isEqualTo("dimensions");
    }

    static double dot(List<Float> x, List<Float> y) {
        double s = 0;
        for (int i = 0; i < x.size(); i++) {
            s += x.get(i) * y.get(i);
        }
        return s;
    }

    @Test
    void logprobs_areTheModelsOwn_andTheGreedyChoiceIsTheTopOne() {
        ChatCompletion c = openai.chat().completions().create(greedy("Once upon a time", 8).logprobs(true).topLogprobs(3L).build());
        var content = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertThat(content).hasSize(8);
        StringBuilder text = new StringBuilder();
        for (var t : content) {
            assertThat(t.logprob()).isLessThanOrEqualTo(0.0);
            assertThat(t.topLogprobs()).hasSize(3);
            assertThat(t.topLogprobs().getFirst().token()).isEqualTo(t.token()); // greedy took the likeliest
            assertThat(t.topLogprobs().getFirst().logprob()).isEqualTo(t.logprob());
            assertThat(t.topLogprobs().get(1).logprob()).isLessThanOrEqualTo(t.topLogprobs().get(0).logprob());
            double mass = t.topLogprobs().stream().mapToDouble(x -> Math.exp(x.logprob())).sum();
            assertThat(mass).isLessThanOrEqualTo(1.0 + 1e-6);
            text.append(t.token());
        }
        assertThat(text.toString()).isEqualTo(c.choices().getFirst().message().content().orElseThrow());

        // streamed: each chunk carries the logprobs of its own tokens
        List<String> tokens = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
                greedy("Once upon a time", 8).logprobs(true).topLogprobs(1L).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.logprobs()
                    .flatMap(lp -> lp.content()).ifPresent(list -> list.forEach(t -> tokens.add(t.token())))));
        }
        assertThat(String.join("", tokens)).isEqualTo(text.toString());
    }

    @Test
    void badRequests_are400_namingTheField() {
        assertThatThrownBy(() -> openai.chat().completions().create(greedy("hi", 5).temperature(-1.0).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("temperature");
        assertThatThrownBy(() -> openai.chat().completions().create(greedy("hi", 5).model("missing").build()))
                .isInstanceOf(NotFoundException.class).hasMessageContaining("missing");
    }

    // ---- raw HTTP: framing and status codes ----

    static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void wholeAnswers_nameTheirRunner_inHeaders() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":2}""");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Corral-Runner")).hasValue("llamacpp");
        assertThat(r.headers().firstValue("X-Corral-Attempts")).hasValue("1");
    }

    @Test
    void sseFraming_isExact() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Once upon a time"}],
                 "temperature":0,"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}""");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/event-stream");
        String[] frames = r.body().split("\n\n", -1);
        assertThat(frames).hasSize(8); // role, 3 deltas, finish, usage, [DONE], "" after the last separator
        for (int i = 0; i < 7; i++) {
            assertThat(frames[i]).startsWith("data: ").doesNotContain("\n");
        }
        assertThat(frames[6]).isEqualTo("data: [DONE]");
        assertThat(frames[7]).isEmpty();
        JsonNode first = Json.MAPPER.readTree(frames[0].substring(6));
        assertThat(first.at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        assertThat(first.at("/object").asText()).isEqualTo("chat.completion.chunk");
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            JsonNode d = Json.MAPPER.readTree(frames[i].substring(6));
            assertThat(d.at("/choices/0/finish_reason").isNull()).isTrue();
            text.append(d.at("/choices/0/delta/content").asText());
        }
        assertThat(text.toString()).isEqualTo(", there was");
        assertThat(Json.MAPPER.readTree(frames[4].substring(6)).at("/choices/0/finish_reason").asText()).isEqualTo("length");
        JsonNode usage = Json.MAPPER.readTree(frames[5].substring(6));
        assertThat(usage.get("choices")).isEmpty();
        assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(3);
    }

    @Test
    void errorStatuses_andShapes() throws Exception {
        HttpResponse<String> bad = post("/v1/chat/completions", "{not json");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(json(bad).at("/error/message").asText()).contains("not valid JSON");

        HttpResponse<String> noMessages = post("/v1/chat/completions", "{\"model\":\"stories260K\"}");
        assertThat(noMessages.statusCode()).isEqualTo(400);
        assertThat(json(noMessages).at("/error/param").asText()).isEqualTo("messages");

        HttpResponse<String> wrongType = post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"ten\"}");
        assertThat(json(wrongType).at("/error/param").asText()).isEqualTo("max_tokens");

        HttpResponse<String> noText = post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}");
        assertThat(noText.statusCode()).isEqualTo(400); // a text part without its text, as OpenAI refuses it
        assertThat(json(noText).at("/error/param").asText()).isEqualTo("messages[0].content[0].text");

        HttpResponse<String> emptyStop = post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"\"]}");
        assertThat(emptyStop.statusCode()).isEqualTo(400);
        assertThat(json(emptyStop).at("/error/message").asText()).isEqualTo("stop must not hold an empty sequence");

        HttpResponse<String> image = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":[{"type":"text","text":"what?"},
                 {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}""");
        assertThat(image.statusCode()).isEqualTo(400);
        assertThat(json(image).at("/error/message").asText()).contains("images");

        HttpResponse<String> metadata = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":[{"type":"text","text":"what?"},
                 {"type":"image_url","image_url":{"url":"http://169.254.169.254/latest/meta-data/"}}]}]}""");
        assertThat(metadata.statusCode()).isEqualTo(400);
        assertThat(json(metadata).at("/error/param").asText()).isEqualTo("messages[0].content[1].image_url");
        assertThat(json(metadata).at("/error/message").asText()).contains("private address (169.254.169.254)");

        HttpResponse<String> route = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/nothing")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(route.statusCode()).isEqualTo(404);
        assertThat(json(route).at("/error/code").asText()).isEqualTo("not_found");

        HttpResponse<String> big = post("/v1/chat/completions", "{\"model\":\"" + "x".repeat(70_000) + "\"}");
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(json(big).at("/error/code").asText()).isEqualTo("request_too_large");

        HttpResponse<String> overflow = post("/v1/completions",
                "{\"model\":\"stories260K\",\"prompt\":\"" + "Once upon a time there was a dog. ".repeat(100) + "\"}");
        assertThat(overflow.statusCode()).isEqualTo(400);
        assertThat(json(overflow).at("/error/code").asText()).isEqualTo("context_length_exceeded");
    }

    /**
     * Capacity is 4 requests per model. The tiny model answers too fast to keep 4 busy, so the real
     * engine sits behind a gate that holds each generation until the test opens it.
     */
    @Test
    void overCapacity_is429_withRetryAfter() throws Exception {
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.Semaphore entered = new java.util.concurrent.Semaphore(0);
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(stories()).withThreads(1));
        io.corral.spi.InferenceProvider gated = new GatedProvider(engine, gate, entered);
        try (CorralServer small = CorralServer.start(ServerConfig.defaults().withPort(0).withLimits(1024, 4), List.of(gated));
             var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            String req = "{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":4}";
            List<java.util.concurrent.Future<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                held.add(pool.submit(() -> HTTP.send(HttpRequest.newBuilder(URI.create(small.url() + "/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(req)).build(), HttpResponse.BodyHandlers.ofString())));
            }
            assertThat(entered.tryAcquire(4, 10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(URI.create(small.url() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(req)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
            assertThat(json(refused).at("/error/type").asText()).isEqualTo("rate_limit_error");
            gate.countDown();
            for (var f : held) {
                assertThat(f.get().statusCode()).isEqualTo(200);
            }
        }
    }

    /** The real engine, with each stream held until {@code gate} opens. */
    record GatedProvider(LlamaCppEngine engine, java.util.concurrent.CountDownLatch gate,
                         java.util.concurrent.Semaphore entered) implements io.corral.spi.InferenceProvider {
        public String id() { return engine.id(); }
        public String type() { return engine.type(); }
        public String vendor() { return engine.vendor(); }
        public java.util.Set<io.corral.spi.Capability> capabilities() { return engine.capabilities(); }
        public List<io.corral.spi.ModelInfo> models() { return engine.models(); }
        public io.corral.api.TokenStream stream(io.corral.api.ChatRequest r) { hold(); return engine.stream(r); }
        public io.corral.api.TokenStream stream(io.corral.api.CompletionRequest r) { hold(); return engine.stream(r); }
        public void close() { engine.close(); }

        private void hold() {
            entered.release();
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void llamaStackRoutes() throws Exception {
        assertThat(get("/v1/health").get("status").asText()).isEqualTo("OK");
        assertThat(get("/v1/version").get("version").asText()).isNotBlank();
        assertThat(get("/v1/providers").at("/data/0/provider_id").asText()).isEqualTo("llamacpp");
        assertThat(get("/v1/providers/llamacpp").get("api").asText()).isEqualTo("inference");
        assertThat(get("/v1/providers/llamacpp").get("provider_type").asText()).isEqualTo("inline::llamacpp");
        JsonNode routes = get("/v1/inspect/routes").get("data");
        assertThat(routes.findValuesAsText("route")).contains("/v1/chat/completions", "/v1/models");
        assertThat(routes.get(0).get("provider_types").get(0).asText()).isEqualTo("inline::llamacpp");
    }

    static JsonNode get(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + path))
                .header("X-LlamaStack-Client-Version", "0.0.1").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void legacyChatCompletion_shapes() throws Exception {
        String req = """
                {"model_id":"stories260K","messages":[{"role":"user","content":"Once upon a time"}],
                 "sampling_params":{"strategy":{"type":"greedy"},"max_tokens":8}}""";
        HttpResponse<String> r = post("/v1/inference/chat-completion", req, "X-LlamaStack-Client-Version", "0.2.14");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json(r);
        assertThat(body.at("/completion_message/role").asText()).isEqualTo("assistant");
        assertThat(body.at("/completion_message/content").asText()).isNotEmpty();
        assertThat(REFERENCE).startsWith(body.at("/completion_message/content").asText());
        assertThat(body.at("/completion_message/stop_reason").asText()).isEqualTo("out_of_tokens");
        assertThat(body.at("/completion_message/tool_calls").isArray()).isTrue();
        assertThat(body.get("metrics").findValuesAsText("metric")).contains("prompt_tokens", "completion_tokens");

        HttpResponse<String> s = post("/v1/inference/chat-completion", """
                {"model_id":"stories260K","messages":[{"role":"user","content":"Once upon a time"}],
                 "sampling_params":{"strategy":{"type":"greedy"},"max_tokens":8},"stream":true}""");
        assertThat(s.statusCode()).as(s.body()).isEqualTo(200);
        String[] frames = s.body().split("\n\n");
        assertThat(Json.MAPPER.readTree(frames[0].substring(6)).at("/event/event_type").asText()).isEqualTo("start");
        StringBuilder text = new StringBuilder();
        for (int i = 1; i < frames.length - 1; i++) {
            JsonNode e = Json.MAPPER.readTree(frames[i].substring(6)).get("event");
            assertThat(e.get("event_type").asText()).isEqualTo("progress");
            assertThat(e.at("/delta/type").asText()).isEqualTo("text");
            text.append(e.at("/delta/text").asText());
        }
        JsonNode last = Json.MAPPER.readTree(frames[frames.length - 1].substring(6)).get("event");
        assertThat(last.get("event_type").asText()).isEqualTo("complete");
        assertThat(text.toString()).isEqualTo(body.at("/completion_message/content").asText());

        // a sampling parameter of the wrong type is refused, naming it, rather than ignored (max_tokens "x" generated on)
        for (String[] bad : new String[][]{{"{\"max_tokens\":\"x\"}", "sampling_params.max_tokens"},
                {"{\"strategy\":{\"type\":\"top_p\",\"temperature\":\"hot\"}}", "sampling_params.strategy.temperature"},
                {"{\"stop\":\"\\n\"}", "sampling_params.stop"}, {"5", "sampling_params"}}) {
            HttpResponse<String> refused = post("/v1/inference/chat-completion",
                    "{\"model_id\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"sampling_params\":" + bad[0] + "}");
            assertThat(refused.statusCode()).as(bad[0]).isEqualTo(400);
            assertThat(json(refused).at("/error/param").asText()).as(bad[0]).isEqualTo(bad[1]);
        }
    }

    @Test
    void apiKeys_areChecked() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(stories()).withThreads(1));
        try (CorralServer secured = CorralServer.start(ServerConfig.defaults().withPort(0).withApiKeys(List.of("s3cret")),
                List.of(engine))) {
            OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl(secured.url() + "/v1").apiKey("nope").maxRetries(0).build();
            assertThatThrownBy(() -> wrong.models().list()).isInstanceOf(UnauthorizedException.class);
            HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(secured.url() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(Json.MAPPER.readTree(none.body()).at("/error/type").asText()).isEqualTo("authentication_error");
            OpenAIClient right = OpenAIOkHttpClient.builder().baseUrl(secured.url() + "/v1").apiKey("s3cret").maxRetries(0).build();
            assertThat(right.models().list().data()).hasSize(1);
        }
    }

    @Test
    void modelIdsWithSlashes_andAnEngineThatCannotServe_is503() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(stories()).withThreads(1).withId("karpathy/stories260K"));
        try (CorralServer s = CorralServer.start(ServerConfig.defaults().withPort(0), List.of(engine))) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.url() + "/v1").apiKey("x").maxRetries(0).build();
            assertThat(client.models().retrieve("karpathy/stories260K").id()).isEqualTo("karpathy/stories260K");
            assertThat(client.chat().completions().create(ChatCompletionCreateParams.builder().model("karpathy/stories260K")
                    .addUserMessage("Once upon a time").temperature(0.0).maxCompletionTokens(3L).build())
                    .choices().getFirst().message().content()).hasValue(", there was");
            engine.close(); // the engine goes away under the server
            assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                    .model("karpathy/stories260K").addUserMessage("hi").build()))
                    .isInstanceOf(com.openai.errors.InternalServerException.class)
                    .satisfies(e -> assertThat(((com.openai.errors.OpenAIServiceException) e).statusCode()).isEqualTo(503));
        }
    }

    @Test
    void remoteBinding_needsAllowRemoteAndAKey() {
        assertThatThrownBy(() -> new ServerConfig("0.0.0.0", 0, false, List.of(), 1024, 1, false, ServerConfig.DEFAULT_IDLE_TIMEOUT))
                .hasMessageContaining("--allow-remote");
        assertThatThrownBy(() -> new ServerConfig("0.0.0.0", 0, true, List.of(), 1024, 1, false, ServerConfig.DEFAULT_IDLE_TIMEOUT))
                .hasMessageContaining("API key");
    }
}
