package io.corral.retrieval.lucene;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.EngineException;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.Filter;
import io.corral.spi.VectorIoProvider;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded vector store ({@code vector_io: inline::lucene}, the default): one Lucene index per store in
 * its own folder, chunks' text under BM25 with Lucene's English analyzer, their vectors in an HNSW graph
 * (cosine; Lucene searches exactly where a filter leaves few chunks), attributes indexed for filters. Hybrid
 * search fuses the top 100 of each by {@link VectorIoProvider#fuse}. Inserts are searchable at the next query
 * (the reader is reopened when something changed) and durable at {@link #flush} (a Lucene commit).
 *
 * <p>Search time grows with the number of segments (each has its own HNSW graph), and ingestion, which commits
 * often, leaves many: a store that has not been written for a while ({@link #IDLE}) is merged down to
 * {@link #TIDY_SEGMENTS} ({@link #tidy}), and a search covers its segments on all cores.
 */
public final class LuceneVectorIo implements VectorIoProvider {

    /** How many of each retriever's results hybrid search fuses. */
    static final int FUSION_DEPTH = 100;
    private static final Pattern STORE_ID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "id", CONTENT = "content", VECTOR = "vector", META = "meta";

    private static final org.apache.lucene.index.TieredMergePolicy MERGES = new org.apache.lucene.index.TieredMergePolicy()
            .setSegmentsPerTier(30);

    /** How long a store goes unwritten before it is merged down. */
    static final java.time.Duration IDLE = java.time.Duration.ofSeconds(30);
    /** The segments an idle store is merged down to: few graphs to search, and as many slices as cores search. */
    static final int TIDY_SEGMENTS = 4;
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    /** From how many chunks a store's segments are searched side by side. */
    static final int CONCURRENT_FROM = 50_000;
    /** Searches one store's segments side by side (the searching thread takes a share too). */
    private static final java.util.concurrent.ExecutorService SEARCHES = daemons("corral-search", CORES);
    /** Builds a merged segment's HNSW graph on all cores. */
    private static final java.util.concurrent.ExecutorService GRAPH_MERGES = daemons("corral-graph-merge", CORES);
    private static final org.apache.lucene.codecs.Codec CODEC = new org.apache.lucene.codecs.lucene104.Lucene104Codec() {
        private final org.apache.lucene.codecs.KnnVectorsFormat vectors = new org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat(
                org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat.DEFAULT_MAX_CONN,
                org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat.DEFAULT_BEAM_WIDTH, CORES, CORES > 1 ? GRAPH_MERGES : null);

        @Override
        public org.apache.lucene.codecs.KnnVectorsFormat getKnnVectorsFormatForField(String field) {
            return vectors;
        }
    };

    private static java.util.concurrent.ExecutorService daemons(String name, int threads) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private final Path root;
    /** Held by a tidy's commit and by a backup: a commit deletes the files of the commit before it. */
    private final Object commits = new Object();
    private final java.util.concurrent.ScheduledExecutorService tidier;
    private final java.time.Duration idle;
    static final org.apache.lucene.analysis.CharArraySet STOP_WORDS =
            new org.apache.lucene.analysis.CharArraySet(VectorIoProvider.STOP_WORDS, false);

    private final Analyzer analyzer = new EnglishAnalyzer(STOP_WORDS);
    /** BM25 with Lucene's defaults (k1 1.2, b 0.75); on Cranfield others within 0.005 nDCG@10 either way. */
    static final org.apache.lucene.search.similarities.BM25Similarity SIMILARITY = new org.apache.lucene.search.similarities.BM25Similarity();
    private final Map<String, Index> open = new ConcurrentHashMap<>();

    public LuceneVectorIo(Path root) {
        this(root, TIDIER, IDLE);
    }

    private static final java.util.concurrent.ScheduledExecutorService TIDIER = tidier();

    /** One thread for every store's tidying; a tidy put off by a write leaves the queue at once. */
    private static java.util.concurrent.ScheduledThreadPoolExecutor tidier() {
        var tidier = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "corral-store-tidy");
            t.setDaemon(true);
            return t;
        });
        tidier.setRemoveOnCancelPolicy(true);
        return tidier;
    }

    /** A store with {@code tidier} running its merges after {@code idle} without writes (tests pass their own). */
    LuceneVectorIo(Path root, java.util.concurrent.ScheduledExecutorService tidier, java.time.Duration idle) {
        this.root = root;
        this.tidier = tidier;
        this.idle = idle;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new EngineException("cannot make the vector store folder " + root + ": " + e.getMessage(), e);
        }
    }

    /** One store's index: its writer, a searcher reopened when the index changed, and its vectors' dimension. */
    private final class Index implements AutoCloseable {
        final Directory dir;
        final IndexWriter writer;
        final SearcherManager searchers;
        final int dimension;
        final AtomicBoolean dirty = new AtomicBoolean();
        final String id;
        private java.util.concurrent.ScheduledFuture<?> tidy;

        Index(String id, Path path, int dimension) throws IOException {
            this.id = id;
            this.dir = FSDirectory.open(path);
            IndexWriterConfig config = new IndexWriterConfig(analyzer).setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
                    .setSimilarity(SIMILARITY)
                    // ingestion commits often (each group of finished files): merge larger sets of segments less
                    // often, since a merge rebuilds the vectors' HNSW graph (30 a tier, not 10: ingestion 0.85x -> 1.00x)
                    .setMergePolicy(MERGES)
                    .setCodec(CODEC);
            this.writer = new IndexWriter(dir, config);
            String known = userData(writer, "dimension");
            this.dimension = known != null ? Integer.parseInt(known) : dimension;
            if (this.dimension <= 0) {
                writer.close();
                dir.close();
                throw new IOException("the index at " + path + " records no dimension");
            }
            writer.setLiveCommitData(Map.of("dimension", Integer.toString(this.dimension)).entrySet());
            if (known == null) {
                writer.commit();
            }
            this.searchers = new SearcherManager(writer, new org.apache.lucene.search.SearcherFactory() {
                @Override
                public IndexSearcher newSearcher(org.apache.lucene.index.IndexReader reader, org.apache.lucene.index.IndexReader previous) {
                    // side by side only where the work dwarfs handing it over (a small store searches in well under a ms)
                    IndexSearcher s = reader.maxDoc() >= CONCURRENT_FROM ? new IndexSearcher(reader, SEARCHES) : new IndexSearcher(reader);
                    s.setSimilarity(SIMILARITY);
                    return s;
                }
            });
        }

        /** Something was written: the store is tidied once it has been left alone for {@link #idle}. */
        synchronized void written() {
            dirty.set(true);
            if (tidy != null) {
                tidy.cancel(false);
            }
            tidy = tidier.schedule(() -> {
                try {
                    tidy(this);
                } catch (RuntimeException e) {
                    // closed or deleted meanwhile, or a merge failed: the store stays as it was, searchable
                    java.util.logging.Logger.getLogger(LuceneVectorIo.class.getName()).fine(() -> "tidy " + id + ": " + e);
                }
            }, idle.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        synchronized void cancelTidy() {
            if (tidy != null) {
                tidy.cancel(false);
            }
        }

        IndexSearcher acquire() throws IOException {
            if (dirty.getAndSet(false)) {
                searchers.maybeRefreshBlocking();
            }
            return searchers.acquire();
        }

        @Override
        public void close() throws IOException {
            cancelTidy();
            searchers.close();
            // what was written is kept by the commit; the rollback then ends the writer without waiting for a
            // merge under way (a tidy of a large store takes minutes)
            if (writer.isOpen()) { // (a writer interrupted in its I/O has closed itself)
                try {
                    writer.commit();
                } catch (org.apache.lucene.store.AlreadyClosedException interrupted) {
                    // an interrupt in the middle of its I/O closed the writer's lock (a file being ingested when the
                    // service closed): what it had not committed is lost as in a crash, and its file, still in
                    // progress, is ingested again
                }
                writer.rollback();
            }
            dir.close();
        }
    }

    private static String userData(IndexWriter w, String key) {
        Iterable<Map.Entry<String, String>> data = w.getLiveCommitData();
        if (data != null) {
            for (Map.Entry<String, String> e : data) {
                if (e.getKey().equals(key)) {
                    return e.getValue();
                }
            }
        }
        return null;
    }

    private Path path(String storeId) {
        if (!STORE_ID.matcher(storeId).matches()) {
            throw new InvalidRequestException("vector_store_id", "a vector store id is 1 to 128 letters, digits, '_', '-' or '.'");
        }
        return root.resolve(storeId);
    }

    private Index index(String storeId) {
        Path path = path(storeId);
        return open.computeIfAbsent(storeId, id -> {
            if (!Files.isDirectory(path)) {
                throw new NotFoundException("vector_store_id", "no vector store " + id);
            }
            try {
                return new Index(id, path, 0);
            } catch (IOException e) {
                throw failed(id, e);
            }
        });
    }

    private static EngineException failed(String storeId, IOException e) {
        if (e instanceof org.apache.lucene.store.LockObtainFailedException) { // Lucene's index lock: one writer a folder
            return new EngineException("vector store " + storeId + " is open in another process (another corral serve on the same "
                    + "cache folder?): stop it, or give this one a cache folder of its own (-Dcorral.cache=DIR in CORRAL_JAVA_OPTS)", e);
        }
        return new EngineException("vector store " + storeId + ": " + e.getMessage(), e);
    }

    @Override
    public void createStore(String storeId, int dimension) {
        if (dimension <= 0) {
            throw new InvalidRequestException("embedding_dimension", "the embedding dimension must be positive");
        }
        Path path = path(storeId);
        open.computeIfAbsent(storeId, id -> {
            try {
                return new Index(id, path, dimension);
            } catch (IOException e) {
                throw failed(id, e);
            }
        });
    }

    @Override
    public void deleteStore(String storeId) {
        Path path = path(storeId);
        open.compute(storeId, (id, index) -> {
            try {
                if (index != null) {
                    index.close();
                }
                if (Files.isDirectory(path)) {
                    try (Stream<Path> files = Files.walk(path)) {
                        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                            Files.delete(p);
                        }
                    }
                }
            } catch (IOException e) {
                throw failed(id, e);
            }
            return null;
        });
    }

    @Override
    public void insert(String storeId, List<Chunk> chunks) {
        Index index = index(storeId);
        try {
            for (Chunk c : chunks) {
                index.writer.updateDocument(new Term(ID, c.id()), document(index, c));
            }
            index.written();
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    private Document document(Index index, Chunk c) throws IOException {
        Document d = new Document();
        d.add(new StringField(ID, c.id(), Field.Store.YES));
        d.add(new TextField(CONTENT, c.content(), Field.Store.YES));
        if (c.embedding() != null) {
            if (c.embedding().length != index.dimension) {
                throw new InvalidRequestException("embedding", "chunk " + c.id() + " has " + c.embedding().length
                        + " dimensions; the store holds " + index.dimension);
            }
            d.add(new KnnFloatVectorField(VECTOR, c.embedding(), VectorSimilarityFunction.COSINE));
        }
        d.add(new StoredField(META, JSON.writeValueAsString(c.metadata())));
        c.metadata().forEach((k, v) -> {
            switch (v) {
                case String s -> d.add(new StringField("s." + k, s, Field.Store.NO));
                case Boolean b -> d.add(new StringField("b." + k, b.toString(), Field.Store.NO));
                case Number n -> d.add(new DoublePoint("n." + k, n.doubleValue()));
                case null, default -> {
                }
            }
        });
        return d;
    }

    @Override
    public void delete(String storeId, Filter filter) {
        Index index = index(storeId);
        try {
            index.writer.deleteDocuments(query(filter));
            index.written();
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    @Override
    public void flush(String storeId) {
        try {
            index(storeId).writer.commit();
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    /**
     * Merges the store down to {@link #TIDY_SEGMENTS} segments and commits, as happens when it has not been
     * written for {@link #IDLE}: the smallest segments merge, and a merge starts from its largest segment's
     * graph, so a store that grows by a little pays a little.
     */
    public void tidy(String storeId) {
        tidy(index(storeId));
    }

    private void tidy(Index index) {
        try {
            if (index.writer.getDocStats().maxDoc > 0 && segments(index) > TIDY_SEGMENTS) {
                index.writer.forceMerge(TIDY_SEGMENTS);
                synchronized (commits) { // not while a backup copies the last commit's files, which this one may delete
                    index.writer.commit();
                }
                index.dirty.set(true);
            }
        } catch (IOException e) {
            throw failed(index.id, e);
        }
    }

    /** How many segments a search of the store covers now. */
    public int segments(String storeId) {
        return segments(index(storeId));
    }

    private static int segments(Index index) {
        try {
            IndexSearcher searcher = index.acquire();
            try {
                return searcher.getIndexReader().leaves().size();
            } finally {
                index.searchers.release(searcher);
            }
        } catch (IOException e) {
            throw failed(index.id, e);
        }
    }

    @Override
    public long count(String storeId) {
        Index index = index(storeId);
        try {
            IndexSearcher searcher = index.acquire();
            try {
                return searcher.getIndexReader().numDocs();
            } finally {
                index.searchers.release(searcher);
            }
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    @Override
    public void scan(String storeId, int batch, java.util.function.Consumer<List<Chunk>> each) {
        Index index = index(storeId);
        try {
            IndexSearcher searcher = index.acquire();
            try {
                List<Chunk> out = new ArrayList<>(batch);
                for (var leaf : searcher.getIndexReader().leaves()) {
                    var reader = leaf.reader();
                    var live = reader.getLiveDocs();
                    var stored = reader.storedFields();
                    var vectors = reader.getFloatVectorValues(VECTOR);
                    var docs = vectors == null ? null : vectors.iterator();
                    for (int doc = 0; doc < reader.maxDoc(); doc++) {
                        if (live != null && !live.get(doc)) {
                            continue;
                        }
                        Document d = stored.document(doc);
                        float[] vector = null;
                        if (docs != null && (docs.docID() < doc ? docs.advance(doc) : docs.docID()) == doc) {
                            vector = vectors.vectorValue(docs.index()).clone();
                        }
                        Map<String, Object> meta = JSON.readValue(d.get(META), new TypeReference<Map<String, Object>>() { });
                        out.add(new Chunk(d.get(ID), d.get(CONTENT), meta, vector));
                        if (out.size() == batch) {
                            each.accept(List.copyOf(out));
                            out.clear();
                        }
                    }
                }
                if (!out.isEmpty()) {
                    each.accept(List.copyOf(out));
                }
            } finally {
                index.searchers.release(searcher);
            }
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    @Override
    public List<Hit> query(String storeId, VectorIoProvider.Query q) {
        Index index = index(storeId);
        org.apache.lucene.search.Query filter = q.filter() == null ? null : query(q.filter());
        try {
            IndexSearcher searcher = index.acquire();
            try {
                List<VectorIoProvider.Scored<Integer>> top = switch (q.mode()) {
                    case VECTOR -> vector(index, searcher, q.embedding(), q.k(), filter);
                    case KEYWORD -> keyword(searcher, q.text(), q.k(), filter);
                    case HYBRID -> VectorIoProvider.fuse(
                            vector(index, searcher, q.embedding(), Math.max(q.k(), FUSION_DEPTH), filter),
                            keyword(searcher, q.text(), Math.max(q.k(), FUSION_DEPTH), filter), q.ranker(), q.k());
                };
                return hits(searcher, top, q.vectors()); // stored fields read for the results only, after fusion
            } finally {
                index.searchers.release(searcher);
            }
        } catch (IOException e) {
            throw failed(storeId, e);
        }
    }

    private List<VectorIoProvider.Scored<Integer>> vector(Index index, IndexSearcher searcher, float[] embedding, int k, org.apache.lucene.search.Query filter) throws IOException {
        if (embedding.length != index.dimension) {
            throw new InvalidRequestException("embedding", "the query has " + embedding.length
                    + " dimensions; the store holds " + index.dimension);
        }
        // HNSW explores as many candidates as it is asked for: ask for at least FUSION_DEPTH, so a small k is not
        // an approximate answer (on Cranfield, k = 10 alone lost recall against exact search)
        int candidates = Math.max(k, FUSION_DEPTH);
        return scored(searcher.search(new KnnFloatVectorQuery(VECTOR, embedding, candidates, filter), k));
    }

    private List<VectorIoProvider.Scored<Integer>> keyword(IndexSearcher searcher, String text, int k, org.apache.lucene.search.Query filter) throws IOException {
        BooleanQuery.Builder terms = new BooleanQuery.Builder();
        int n = 0;
        try (TokenStream tokens = analyzer.tokenStream(CONTENT, text == null ? "" : text)) {
            CharTermAttribute term = tokens.addAttribute(CharTermAttribute.class);
            tokens.reset();
            while (tokens.incrementToken() && n < IndexSearcher.getMaxClauseCount() - 1) {
                terms.add(new TermQuery(new Term(CONTENT, term.toString())), Occur.SHOULD);
                n++;
            }
            tokens.end();
        }
        if (n == 0) {
            return List.of();
        }
        BooleanQuery.Builder query = new BooleanQuery.Builder().add(terms.build(), Occur.MUST);
        if (filter != null) {
            query.add(filter, Occur.FILTER);
        }
        return scored(searcher.search(query.build(), k));
    }

    private static List<VectorIoProvider.Scored<Integer>> scored(TopDocs top) {
        List<VectorIoProvider.Scored<Integer>> out = new ArrayList<>(top.scoreDocs.length);
        for (ScoreDoc sd : top.scoreDocs) {
            out.add(new VectorIoProvider.Scored<>(sd.doc, sd.score));
        }
        return out;
    }

    private static List<Hit> hits(IndexSearcher searcher, List<VectorIoProvider.Scored<Integer>> top, boolean vectors) throws IOException {
        List<Hit> hits = new ArrayList<>(top.size());
        var stored = searcher.storedFields();
        for (var sd : top) {
            Document d = stored.document(sd.item());
            Map<String, Object> meta = JSON.readValue(d.get(META), new TypeReference<Map<String, Object>>() { });
            hits.add(new Hit(new Chunk(d.get(ID), d.get(CONTENT), meta, vectors ? vector(searcher, sd.item()) : null), sd.score()));
        }
        return hits;
    }

    /** The embedding of the searcher's document {@code doc}, or null when it has none. */
    private static float[] vector(IndexSearcher searcher, int doc) throws IOException {
        var leaves = searcher.getIndexReader().leaves();
        var leaf = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
        var vectors = leaf.reader().getFloatVectorValues(VECTOR);
        if (vectors == null) {
            return null;
        }
        var docs = vectors.iterator();
        int local = doc - leaf.docBase;
        return docs.advance(local) == local ? vectors.vectorValue(docs.index()).clone() : null;
    }

    /** The Lucene query that matches what {@code f} accepts ({@link Filter#test}). */
    static org.apache.lucene.search.Query query(Filter f) {
        return f.translate(FILTERS);
    }

    /** Filters as Lucene queries over the attribute fields {@link #document} indexes. */
    private static final Filter.Translator<org.apache.lucene.search.Query> FILTERS = new Filter.Translator<>() {
        @Override
        public org.apache.lucene.search.Query equal(String key, Object v) {
            return switch (v) {
                case String s -> new TermQuery(new Term("s." + key, s));
                case Boolean b -> new TermQuery(new Term("b." + key, b.toString()));
                case Number n -> DoublePoint.newExactQuery("n." + key, n.doubleValue());
                default -> throw new IllegalArgumentException(String.valueOf(v));
            };
        }

        @Override
        public org.apache.lucene.search.Query range(String key, Filter.Op op, Object value) {
            boolean lower = op == Filter.Op.GT || op == Filter.Op.GTE;
            boolean inclusive = op == Filter.Op.GTE || op == Filter.Op.LTE;
            if (value instanceof Number n) {
                double v = n.doubleValue();
                return lower
                        ? DoublePoint.newRangeQuery("n." + key, inclusive ? v : Math.nextUp(v), Double.POSITIVE_INFINITY)
                        : DoublePoint.newRangeQuery("n." + key, Double.NEGATIVE_INFINITY, inclusive ? v : Math.nextDown(v));
            }
            String s = (String) value;
            return lower ? TermRangeQuery.newStringRange("s." + key, s, null, inclusive, true)
                    : TermRangeQuery.newStringRange("s." + key, null, s, true, inclusive);
        }

        @Override
        public org.apache.lucene.search.Query not(org.apache.lucene.search.Query q) {
            return new BooleanQuery.Builder().add(new MatchAllDocsQuery(), Occur.FILTER).add(q, Occur.MUST_NOT).build();
        }

        @Override
        public org.apache.lucene.search.Query and(List<org.apache.lucene.search.Query> all) {
            BooleanQuery.Builder b = new BooleanQuery.Builder();
            all.forEach(q -> b.add(q, Occur.FILTER));
            return b.build();
        }

        @Override
        public org.apache.lucene.search.Query or(List<org.apache.lucene.search.Query> any) {
            BooleanQuery.Builder b = new BooleanQuery.Builder();
            any.forEach(q -> b.add(q, Occur.SHOULD));
            return b.build();
        }

        @Override
        public org.apache.lucene.search.Query none() {
            return new BooleanQuery.Builder().build();
        }

        @Override
        public org.apache.lucene.search.Query all() {
            return new MatchAllDocsQuery();
        }
    };

    /** Copies each store's files as of its last commit (Lucene keeps them until the next one). */
    @Override
    public void backup(Path target) {
        synchronized (commits) { // (the caller holds ingestion's commits back; a store's own tidy waits here)
            backupNow(target);
        }
    }

    private void backupNow(Path target) {
        try (Stream<Path> stores = Files.list(root)) {
            for (Path store : stores.filter(Files::isDirectory).toList()) {
                Path to = Files.createDirectories(target.resolve(store.getFileName()));
                try (Directory dir = FSDirectory.open(store)) {
                    for (String file : org.apache.lucene.index.SegmentInfos.readLatestCommit(dir).files(true)) {
                        Files.copy(store.resolve(file), to.resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new EngineException("cannot back up the vector stores to " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (String id : List.copyOf(open.keySet())) {
            Index index = open.remove(id);
            if (index != null) {
                try {
                    index.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
