package io.corral.retrieval.lucene;

import io.corral.api.EngineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A store another writer holds (a second server on the same cache folder) is refused with what to do, not Lucene's lock message. */
class LuceneLockTest {

    @Test
    void aStoreHeldByAnotherWriter_isNamedWithWhatToDo(@TempDir Path dir) throws Exception {
        try (LuceneVectorIo first = new LuceneVectorIo(dir)) {
            first.createStore("kb", 4);
            first.count("kb"); // opened: its writer holds the folder's lock
            try (LuceneVectorIo second = new LuceneVectorIo(dir)) {
                assertThatThrownBy(() -> second.count("kb")).isInstanceOf(EngineException.class)
                        .hasMessageContaining("vector store kb is open in another process")
                        .hasMessageContaining("-Dcorral.cache=DIR");
            }
        }
    }
}
