package io.corral.testing;

import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.Filter;
import io.corral.spi.Ranker;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorIoProvider.Chunk;
import io.corral.spi.VectorIoProvider.Hit;
import io.corral.spi.VectorIoProvider.Mode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link VectorIoProvider} must do; an implementation's test extends this. Vectors here are
 * 4-dimensional and chosen by hand, so which chunk is nearest is known.
 */
public abstract class VectorIoProviderContract {

    protected VectorIoProvider store;

    /** A provider over fresh storage. */
    protected abstract VectorIoProvider open();

    /** The provider closed and opened again over the same storage (a restart). */
    protected abstract VectorIoProvider reopen(VectorIoProvider closed);

    @BeforeEach
    void openStore() {
        store = open();
        store.createStore("vs_contract", 4);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static Chunk chunk(String id, String text, Map<String, Object> meta, float... v) {
        return new Chunk(id, text, meta, v);
    }

    private static List<String> ids(List<Hit> hits) {
        return hits.stream().map(h -> h.chunk().id()).toList();
    }

    private void animals() {
        store.insert("vs_contract", List.of(
                chunk("cat", "The cat sat on the mat and purred.", Map.of("kind", "pet", "legs", 4), 1, 0, 0, 0),
                chunk("dog", "A dog barked at the postman.", Map.of("kind", "pet", "legs", 4), 0.9f, 0.1f, 0, 0),
                chunk("bird", "Birds sing at dawn in the garden.", Map.of("kind", "wild", "legs", 2, "flies", true), 0, 1, 0, 0),
                chunk("fish", "Fish swim in the cold river.", Map.of("kind", "wild", "legs", 0), 0, 0, 1, 0)));
    }

    @Test
    void keywordSearch_ranksByBm25_andReturnsTheChunkWithItsAttributes() {
        animals();
        List<Hit> hits = store.query("vs_contract", new VectorIoProvider.Query("cats purring", null, Mode.KEYWORD, 3, null, null));
        assertThat(ids(hits)).containsExactly("cat");
        Chunk c = hits.getFirst().chunk();
        assertThat(c.content()).isEqualTo("The cat sat on the mat and purred.");
        assertThat(c.metadata()).containsEntry("kind", "pet").containsEntry("legs", 4);
        assertThat(hits.getFirst().score()).isPositive();
        assertThat(store.query("vs_contract", new VectorIoProvider.Query("the", null, Mode.KEYWORD, 3, null, null)))
                .as("stop words alone match nothing").isEmpty();
    }

    @Test
    void vectorSearch_findsTheNearest_bestFirst() {
        animals();
        List<Hit> hits = store.query("vs_contract", new VectorIoProvider.Query("", new float[]{1, 0.05f, 0, 0}, Mode.VECTOR, 2, null, null));
        assertThat(ids(hits)).containsExactly("cat", "dog");
        assertThat(hits.get(0).score()).isGreaterThan(hits.get(1).score());
    }

    @Test
    void hybridSearch_fusesBothLists() {
        animals();
        // by keyword only the fish matches; by vector the bird is nearest
        var q = new VectorIoProvider.Query("river", new float[]{0, 1, 0, 0}, Mode.HYBRID, 2, null, Ranker.DEFAULT);
        assertThat(ids(store.query("vs_contract", q))).containsExactlyInAnyOrder("fish", "bird");
        var weighted = new VectorIoProvider.Query("river", new float[]{0, 1, 0, 0}, Mode.HYBRID, 1, null, Ranker.weighted(0));
        assertThat(ids(store.query("vs_contract", weighted))).as("alpha 0: keyword scores only").containsExactly("fish");
        var vectorOnly = new VectorIoProvider.Query("river", new float[]{0, 1, 0, 0}, Mode.HYBRID, 1, null, Ranker.weighted(1));
        assertThat(ids(store.query("vs_contract", vectorOnly))).as("alpha 1: vector scores only").containsExactly("bird");
    }

    @Test
    void hitsCarryTheirEmbeddings_onlyWhenAskedFor() {
        animals();
        var q = new VectorIoProvider.Query("river", new float[]{0, 1, 0, 0}, Mode.HYBRID, 2, null, null);
        assertThat(store.query("vs_contract", q)).allSatisfy(h -> assertThat(h.chunk().embedding()).isNull());
        var withVectors = store.query("vs_contract", q.withVectors());
        assertThat(ids(withVectors)).containsExactlyInAnyOrder("fish", "bird");
        for (Hit h : withVectors) {
            assertThat(h.chunk().embedding()).containsExactly(h.chunk().id().equals("fish") ? new float[]{0, 0, 1, 0} : new float[]{0, 1, 0, 0});
        }
        var keyword = store.query("vs_contract", new VectorIoProvider.Query("postman", null, Mode.KEYWORD, 1, null, null).withVectors());
        assertThat(keyword.getFirst().chunk().embedding()).containsExactly(0.9f, 0.1f, 0, 0);
    }

    @Test
    void insertingAnId_again_replacesTheChunk() {
        animals();
        store.insert("vs_contract", List.of(chunk("cat", "A lion roars.", Map.of("kind", "wild"), 1, 0, 0, 0)));
        assertThat(store.count("vs_contract")).isEqualTo(4);
        assertThat(ids(store.query("vs_contract", new VectorIoProvider.Query("cat", null, Mode.KEYWORD, 5, null, null)))).isEmpty();
        assertThat(ids(store.query("vs_contract", new VectorIoProvider.Query("lion", null, Mode.KEYWORD, 5, null, null)))).containsExactly("cat");
    }

    @Test
    void deleteByFilter_removesThoseChunksOnly() {
        animals();
        store.delete("vs_contract", Filter.eq("kind", "wild"));
        assertThat(store.count("vs_contract")).isEqualTo(2);
        var q = new VectorIoProvider.Query("", new float[]{0, 0, 1, 0}, Mode.VECTOR, 10, null, null);
        assertThat(ids(store.query("vs_contract", q))).containsExactlyInAnyOrder("cat", "dog");
    }

    /** Every filter means what {@link Filter#test} says: checked against random attributes. */
    @Test
    void filters_matchExactlyWhatTheirTestAccepts() {
        Random random = new Random(42);
        String[] colours = {"red", "green", "blue"};
        List<Chunk> chunks = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Map<String, Object> meta = new java.util.HashMap<>();
            if (random.nextInt(5) > 0) {
                meta.put("colour", colours[random.nextInt(3)]);
            }
            if (random.nextInt(5) > 0) {
                meta.put("size", random.nextInt(10));
            }
            if (random.nextInt(5) > 0) {
                meta.put("price", random.nextInt(100) / 4.0);
            }
            if (random.nextInt(5) > 0) {
                meta.put("new", random.nextBoolean());
            }
            if (random.nextInt(3) > 0) {
                meta.put("corral.tag", colours[random.nextInt(3)]); // a dotted key, as the service's own keys are
                meta.put("corral.rank", random.nextInt(4));
            }
            chunks.add(chunk("c" + i, "widget number " + i, meta, 1, i, 0, 0));
        }
        store.insert("vs_contract", chunks);
        List<Filter> filters = List.of(
                Filter.eq("colour", "red"),
                Filter.eq("corral.tag", "green"),
                new Filter.Comparison("corral.rank", Filter.Op.GTE, 2),
                new Filter.Comparison("colour", Filter.Op.NE, "red"),
                new Filter.Comparison("size", Filter.Op.GT, 4),
                new Filter.Comparison("size", Filter.Op.GTE, 4),
                new Filter.Comparison("size", Filter.Op.LT, 4),
                new Filter.Comparison("size", Filter.Op.LTE, 4.0),
                new Filter.Comparison("price", Filter.Op.LT, 12.25),
                new Filter.Comparison("price", Filter.Op.LTE, 12.25),
                Filter.eq("new", true),
                new Filter.Comparison("new", Filter.Op.NE, false),
                new Filter.Comparison("colour", Filter.Op.IN, List.of("red", "blue")),
                new Filter.Comparison("colour", Filter.Op.NIN, List.of("red", "blue")),
                new Filter.Comparison("colour", Filter.Op.GTE, "green"),
                new Filter.Compound(true, List.of(Filter.eq("colour", "green"), new Filter.Comparison("size", Filter.Op.LT, 5))),
                new Filter.Compound(false, List.of(Filter.eq("new", true),
                        new Filter.Compound(true, List.of(Filter.eq("colour", "blue"), new Filter.Comparison("price", Filter.Op.GT, 10))))));
        for (Filter f : filters) {
            Set<String> expected = chunks.stream().filter(c -> f.test(c.metadata())).map(Chunk::id).collect(Collectors.toSet());
            assertThat(expected).as("the filter %s should leave some chunks out and keep some", f).isNotEmpty().hasSizeLessThan(60);
            var keyword = new VectorIoProvider.Query("widget", null, Mode.KEYWORD, 60, f, null);
            assertThat(ids(store.query("vs_contract", keyword))).as("keyword search with %s", f).containsExactlyInAnyOrderElementsOf(expected);
            var vector = new VectorIoProvider.Query("", new float[]{1, 1, 0, 0}, Mode.VECTOR, 60, f, null);
            assertThat(ids(store.query("vs_contract", vector))).as("vector search with %s", f).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    void flushedChunks_surviveARestart() {
        animals();
        store.flush("vs_contract");
        store = reopen(store);
        assertThat(store.count("vs_contract")).isEqualTo(4);
        assertThat(ids(store.query("vs_contract", new VectorIoProvider.Query("postman", null, Mode.KEYWORD, 3, null, null))))
                .containsExactly("dog");
        store.createStore("vs_contract", 4);
        assertThat(store.count("vs_contract")).as("creating an existing store keeps it").isEqualTo(4);
    }

    @Test
    void aVectorOfTheWrongDimension_isRefused() {
        assertThatThrownBy(() -> store.insert("vs_contract", List.of(chunk("x", "x", Map.of(), 1, 2, 3))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("3 dimensions");
        assertThatThrownBy(() -> store.query("vs_contract", new VectorIoProvider.Query("", new float[]{1}, Mode.VECTOR, 3, null, null)))
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aDeletedStore_isGone_andStoresAreSeparate() {
        store.createStore("vs_other", 4);
        store.insert("vs_other", List.of(chunk("o", "other store text", Map.of(), 0, 0, 0, 1)));
        animals();
        assertThat(ids(store.query("vs_contract", new VectorIoProvider.Query("other", null, Mode.KEYWORD, 3, null, null)))).isEmpty();
        store.deleteStore("vs_other");
        assertThatThrownBy(() -> store.count("vs_other")).isInstanceOf(NotFoundException.class);
        assertThat(store.count("vs_contract")).isEqualTo(4);
    }

    @Test
    void scan_handsOverEveryChunk_withItsEmbedding_inBatches() {
        animals();
        store.delete("vs_contract", Filter.eq("kind", "wild"));
        List<List<Chunk>> batches = new ArrayList<>();
        store.scan("vs_contract", 1, batches::add);
        assertThat(batches).hasSize(2).allSatisfy(b -> assertThat(b).hasSize(1));
        List<Chunk> all = batches.stream().flatMap(List::stream).toList();
        assertThat(all).extracting(Chunk::id).containsExactlyInAnyOrder("cat", "dog");
        Chunk dog = all.stream().filter(c -> c.id().equals("dog")).findFirst().orElseThrow();
        assertThat(dog.content()).isEqualTo("A dog barked at the postman.");
        assertThat(dog.metadata()).containsEntry("legs", 4);
        assertThat(dog.embedding()).containsExactly(0.9f, 0.1f, 0, 0);
    }
}
