package io.corral.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.NotFoundException;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionListParams;
import com.openai.models.chat.completions.ChatCompletionUpdateParams;
import io.corral.storage.SqlKeyValueStore;
import io.corral.testing.ScriptedProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static io.corral.testing.ScriptedProvider.answer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** OpenAI's stored chat completions through the official SDK: kept with store: true, per key, in the state store. */
class StoredCompletionsTest {

    static final String KEY_A = "key-a-secret", KEY_B = "key-b-secret";

    static OpenAIClient client(CorralServer server, String key) {
        return OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey(key).maxRetries(0).build();
    }

    static ChatCompletionCreateParams.Builder ask(String text) {
        return ChatCompletionCreateParams.builder().model(ChatModel.of("m")).addUserMessage(text);
    }

    @Test
    void completionsAskedToBeStored_areListed_read_updated_andDeleted_byTheirKeyOnly(@TempDir Path dir) {
        ScriptedProvider model = ScriptedProvider.chat("p", "m").then(answer("Hello ", "there."));
        String first, streamed;
        try (SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of(KEY_A, KEY_B)))
                     .providers(List.of(model)).state(kv).start()) {
            OpenAIClient a = client(server, KEY_A);
            first = a.chat().completions().create(ask("Hi").store(true).metadata(ChatCompletionCreateParams.Metadata.builder()
                    .putAdditionalProperty("run_id", JsonValue.from("r1")).build()).build()).id();
            a.chat().completions().create(ask("Not kept").build());
            try (var stream = a.chat().completions().createStreaming(ask("Stream it").store(true).build())) {
                assertThat(stream.stream().count()).isPositive();
            }
            streamed = a.chat().completions().list().data().stream().map(ChatCompletion::id).filter(id -> !id.equals(first))
                    .findFirst().orElseThrow();
        }
        // a restart later, over the same state store
        try (SqlKeyValueStore kv = SqlKeyValueStore.sqlite(dir.resolve("kv.db"), Clock.systemUTC());
             CorralServer server = CorralServer.builder(ServerConfig.defaults().withPort(0).withApiKeys(List.of(KEY_A, KEY_B)))
                     .providers(List.of(model)).state(kv).start()) {
            OpenAIClient a = client(server, KEY_A), b = client(server, KEY_B);
            List<ChatCompletion> listed = a.chat().completions().list().data();
            assertThat(listed).extracting(ChatCompletion::id).as("the two stored, not the third").containsExactlyInAnyOrder(first, streamed);
            ChatCompletion kept = a.chat().completions().retrieve(first);
            assertThat(kept.choices().getFirst().message().content()).contains("Hello there.");
            assertThat(kept._additionalProperties().get("input_messages").toString()).contains("Hi");
            assertThat(kept._additionalProperties().get("metadata").toString()).contains("r1");
            assertThat(a.chat().completions().retrieve(streamed).choices().getFirst().message().content()).contains("Hello there.");
            var messages = a.chat().completions().messages().list(first).data();
            assertThat(messages).hasSize(1);
            assertThat(messages.getFirst().content()).hasValue("Hi");
            assertThat(messages.getFirst().id()).isEqualTo(first + "-0");
            assertThatThrownBy(() -> b.chat().completions().messages().list(first)).isInstanceOf(NotFoundException.class);
            assertThat(a.chat().completions().list(ChatCompletionListParams.builder().model("other").build()).data()).isEmpty();
            assertThat(a.chat().completions().list(ChatCompletionListParams.builder().limit(1).build()).data()).hasSize(1);

            assertThat(b.chat().completions().list().data()).as("another key's").isEmpty();
            assertThatThrownBy(() -> b.chat().completions().retrieve(first)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> b.chat().completions().delete(first)).isInstanceOf(NotFoundException.class);

            ChatCompletion updated = a.chat().completions().update(ChatCompletionUpdateParams.builder().completionId(first)
                    .metadata(ChatCompletionUpdateParams.Metadata.builder().putAdditionalProperty("run_id", JsonValue.from("r2")).build()).build());
            assertThat(updated._additionalProperties().get("metadata").toString()).contains("r2");
            assertThat(a.chat().completions().delete(first).deleted()).isTrue();
            assertThatThrownBy(() -> a.chat().completions().retrieve(first)).isInstanceOf(NotFoundException.class);
            assertThat(a.chat().completions().list().data()).extracting(ChatCompletion::id).containsExactly(streamed);
        }
    }
}
