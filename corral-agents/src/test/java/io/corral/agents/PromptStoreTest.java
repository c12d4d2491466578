package io.corral.agents;

import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.MemoryKeyValueStore;
import io.corral.spi.Prompts;
import io.corral.spi.Prompts.Prompt;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Prompts kept in a state store: versions, the default, updates built on the latest, tenants apart. */
class PromptStoreTest {

    static final String ME = "key-aaaaaaaaaaaaaaaa", OTHER = "key-bbbbbbbbbbbbbbbb";

    @Test
    void versions_buildOnTheLatest_andTheDefaultIsWhatIsReadWithoutOne() {
        PromptStore store = new PromptStore(new MemoryKeyValueStore());
        Prompt p = store.create(ME, "You answer about {{ city }}.", List.of("city"));
        assertThat(p.id()).matches("pmpt_[0-9a-f]{48}");
        assertThat(p.version()).isEqualTo(1);
        assertThat(p.isDefault()).isTrue();
        Prompt v2 = store.update(ME, p.id(), "You answer about {{city}} in {{ language }}.", 1, List.of("city", "language"), true);
        assertThat(v2.version()).isEqualTo(2);
        assertThatThrownBy(() -> store.update(ME, p.id(), "Another.", 1, List.of(), true))
                .as("built on an old version").isInstanceOf(InvalidRequestException.class).hasMessageContaining("latest");
        Prompt v3 = store.update(ME, p.id(), "Third.", 2, List.of(), false);
        assertThat(store.get(ME, p.id(), null).version()).as("the default stayed").isEqualTo(2);
        assertThat(store.get(ME, p.id(), 3).text()).isEqualTo("Third.");
        assertThat(store.get(ME, p.id(), 3).isDefault()).isFalse();
        assertThat(store.versions(ME, p.id())).extracting(Prompt::version).containsExactly(1, 2, 3);
        assertThat(store.versions(ME, p.id())).extracting(Prompt::isDefault).containsExactly(false, true, false);
        assertThat(store.setDefault(ME, p.id(), 1).version()).isEqualTo(1);
        assertThat(store.list(ME)).extracting(Prompt::version).containsExactly(1);
        assertThat(v3.isDefault()).isFalse();

        assertThat(store.list(OTHER)).as("another tenant's").isEmpty();
        assertThatThrownBy(() -> store.get(OTHER, p.id(), null)).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> store.update(OTHER, p.id(), "Mine.", 3, List.of(), true)).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> store.get(ME, p.id(), 9)).isInstanceOf(NotFoundException.class);

        store.delete(ME, p.id());
        assertThatThrownBy(() -> store.get(ME, p.id(), 2)).isInstanceOf(NotFoundException.class);
        assertThat(store.list(ME)).isEmpty();
    }

    @Test
    void placeholders_mustBeDeclared_andAreFilledWhenRendered() {
        PromptStore store = new PromptStore(new MemoryKeyValueStore());
        assertThatThrownBy(() -> store.create(ME, "Hi {{ name }} from {{ place }}.", List.of("name")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("place");
        assertThatThrownBy(() -> store.create(ME, " ", List.of())).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> store.create(ME, "x", List.of("no spaces"))).isInstanceOf(InvalidRequestException.class);
        assertThat(Prompts.render("Hi {{ name }}, {{name}}!", Map.of("name", "Ann $1"), "v")).isEqualTo("Hi Ann $1, Ann $1!");
        assertThatThrownBy(() -> Prompts.render("Hi {{ name }}", Map.of(), "prompt.variables"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("name");
    }
}
