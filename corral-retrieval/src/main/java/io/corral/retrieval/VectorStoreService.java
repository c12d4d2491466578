package io.corral.retrieval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.InvalidRequestException;
import io.corral.api.NotFoundException;
import io.corral.spi.FilesProvider;
import io.corral.spi.Filter;
import io.corral.spi.KeyValueStore;
import io.corral.spi.VectorIoProvider;
import io.corral.spi.VectorStores;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The vector stores service ({@link VectorStores}): stores and their files kept in a {@link KeyValueStore}
 * (and in memory, so counts are exact at every moment), chunks in a {@link VectorIoProvider}, file bytes in a
 * {@link FilesProvider}, vectors from an {@link Embedder}.
 *
 * <p>A file added to a store is recorded {@code in_progress} before the call returns, then read, chunked and
 * embedded by one of the ingestion workers, its chunks replacing any of its earlier ones. A single committer
 * makes the chunks of every file finished meanwhile durable with one {@link VectorIoProvider#flush} per store,
 * then records them {@code completed} in one write: so a file reported completed survives a crash, and one
 * that was in progress is ingested again at the next start. Search leaves out chunks of files that are not
 * completed (in progress, removed, or left over from a crash).
 */
public final class VectorStoreService implements VectorStores {

    private static final System.Logger LOG = System.getLogger("corral.retrieval");
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Chunk metadata keys of Corral's own, beside the file's attributes. */
    static final String FILE_ID = "corral.file_id", FILENAME = "corral.filename", CHUNK = "corral.chunk",
            GENERATION = "corral.generation";
    /**
     * Keys of a chunk put in whole ({@link #insertChunks}): its id as given, its metadata and chunk metadata as JSON, the
     * model that embedded it. Its metadata's strings, numbers and booleans are attributes beside them (for filters).
     */
    static final String CHUNK_ID = "corral.chunk_id", METADATA = "corral.metadata", CHUNK_METADATA = "corral.chunk_metadata",
            EMBEDDING_MODEL = "corral.embedding_model", DOCUMENT_ID = "corral.document_id";
    /** A chunk put in whole is kept under this prefix and its id, apart from files' chunks ({@code file-...#n}). */
    private static final String CHUNK_PREFIX = "chunk/";
    /** The most a chunk put in whole may carry: its id, and its metadata and chunk metadata each as JSON. */
    private static final int MAX_CHUNK_ID = 256, MAX_CHUNK_METADATA = 8192;
    private static final int EMBED_BATCH = 64;
    /**
     * How long the committer gathers finished files while more are queued: a second (on Cranfield, committing
     * every 250 ms made ingestion 0.71-0.82x the embedding model's own speed, every second 0.85-1.00x).
     */
    private static final long COMMIT_WINDOW_NANOS = 1_000_000_000L;
    private static final int MAX_ATTRIBUTES = 16;

    /** What the service is configured with. */
    public record Config(String defaultEmbeddingModel, int workers, long maxFileBytes) {
        public static Config defaults() {
            return new Config(null, Math.max(2, Runtime.getRuntime().availableProcessors()), 512L << 20);
        }
    }

    // What is persisted, as JSON under vs/store/{id}, vs/file/{store}/{file} and vs/batch/{store}/{batch}; over a shared
    // state store, vs/ingesting/{store}/{file} too while a file is in progress (what takeOver reads, not every file).
    record StoreRecord(String id, String tenant, String name, long createdAt, Map<String, Object> metadata,
                       Integer expiresAfterDays, long lastActiveAt, String embeddingModel, int dimension, String providerId) {
    }

    record FileRecord(String storeId, String fileId, String filename, long createdAt, String status, long usageBytes,
                      Map<String, Object> attributes, Chunking chunking, LastError lastError, String batchId, int generation) {
        FileRecord with(String newStatus, long usage, LastError error) {
            return new FileRecord(storeId, fileId, filename, createdAt, newStatus, usage, attributes, chunking, error, batchId, generation);
        }
    }

    record BatchRecord(String id, String storeId, long createdAt, boolean cancelled) {
    }

    /** A store in memory: its record, its files and batches, and the lock that orders changes to its chunks. */
    private static final class State {
        volatile StoreRecord record;
        final Map<String, FileRecord> files = new ConcurrentHashMap<>();
        final Map<String, BatchRecord> batches = new ConcurrentHashMap<>();
        final ReentrantLock lock = new ReentrantLock();
        volatile boolean deleted;
        /** When the shared state store was last read for this store (System.nanoTime), over a shared store only. */
        volatile long readAt;
        /** Bumped on every change to {@link #files}, so the counts are summed again only after one. */
        private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
        private volatile Totals totals = new Totals(-1, new FileCounts(0, 0, 0, 0), 0);

        State(StoreRecord record) {
            this.record = record;
        }

        void put(FileRecord f) {
            files.put(f.fileId(), f);
            version.incrementAndGet();
        }

        void remove(String fileId) {
            files.remove(fileId);
            version.incrementAndGet();
        }

        /** The file counts and the completed files' bytes, summed once per change (search reads them every time). */
        Totals totals() {
            Totals t = totals;
            long v = version.get();
            if (t.version() != v) {
                t = new Totals(v, counts(files.values()), files.values().stream().filter(f -> f.status().equals("completed"))
                        .mapToLong(FileRecord::usageBytes).sum());
                totals = t;
            }
            return t;
        }
    }

    private record Totals(long version, FileCounts counts, long usageBytes) {
    }

    private record Job(String storeId, String fileId, int generation) {
    }

    /** A file whose chunks are in the store, waiting for the commit that makes them durable. */
    private record Indexed(String storeId, String fileId, int generation, long usageBytes) {
    }

    private final FilesProvider files;
    private final KeyValueStore kv;
    private final Map<String, VectorIoProvider> providers;
    private final String defaultProvider;
    private final Embedder embedder;
    private final Clock clock;
    private final Config config;
    private final Map<String, State> stores = new ConcurrentHashMap<>();
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final BlockingQueue<Indexed> indexed = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Object progress = new Object();
    /** Over a shared state store, which node ingests which file in progress (a node that dies, another takes over). */
    private final io.corral.spi.Leases leases;
    /** Held shared by whatever changes chunks durably or records a file completed; exclusively by a backup. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock gate = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private volatile boolean closed;

    /**
     * @param providers the vector_io providers by id, the first the default; the service closes them
     */
    public VectorStoreService(FilesProvider files, KeyValueStore kv, Map<String, VectorIoProvider> providers,
                              Embedder embedder, Clock clock, Config config) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException("vector stores need a vector_io provider");
        }
        this.files = files;
        this.kv = kv;
        this.providers = new LinkedHashMap<>(providers);
        this.defaultProvider = providers.keySet().iterator().next();
        this.embedder = embedder;
        this.clock = clock;
        this.config = config;
        this.leases = new io.corral.spi.Leases(kv, clock);
        load();
        for (int i = 0; i < config.workers(); i++) {
            threads.add(Thread.ofPlatform().daemon().name("corral-ingest-" + i).start(this::work));
        }
        threads.add(Thread.ofPlatform().daemon().name("corral-ingest-commit").start(this::commit));
        leases.keep("corral-ingest-leases", this::takeOver); // over a shared state store
    }

    // ---- persistence

    private static String storeKey(String id) {
        return "vs/store/" + id;
    }

    private static String fileKey(String storeId, String fileId) {
        return "vs/file/" + storeId + "/" + fileId;
    }

    /** A file in progress, over a shared state store: another node finds it here if this one dies. */
    private static String ingestingKey(String storeId, String fileId) {
        return "vs/ingesting/" + storeId + "/" + fileId;
    }

    private static String batchKey(String storeId, String batchId) {
        return "vs/batch/" + storeId + "/" + batchId;
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> T parse(String s, Class<T> type) {
        try {
            return JSON.readValue(s, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void load() {
        for (var e : kv.prefix("vs/store/")) {
            StoreRecord r = parse(e.getValue(), StoreRecord.class);
            provider(r).createStore(r.id(), r.dimension());
            stores.put(r.id(), new State(r));
        }
        for (var e : kv.prefix("vs/batch/")) {
            BatchRecord b = parse(e.getValue(), BatchRecord.class);
            State s = stores.get(b.storeId());
            if (s != null) {
                s.batches.put(b.id(), b);
            }
        }
        int resumed = 0;
        for (var e : kv.prefix("vs/file/")) {
            FileRecord f = parse(e.getValue(), FileRecord.class);
            State s = stores.get(f.storeId());
            if (s == null) {
                continue;
            }
            s.put(f);
            if (f.status().equals("in_progress") && leases.take(work(f.storeId(), f.fileId()))) { // not another node's
                jobs.add(new Job(f.storeId(), f.fileId(), f.generation()));
                resumed++;
            }
        }
        if (resumed > 0) {
            LOG.log(System.Logger.Level.INFO, "resuming the ingestion of " + resumed + " file(s)");
        }
    }

    private VectorIoProvider provider(StoreRecord r) {
        VectorIoProvider p = providers.get(r.providerId());
        if (p == null) {
            throw new InvalidRequestException("provider_id", "no vector_io provider " + r.providerId() + "; known: " + providers.keySet());
        }
        return p;
    }

    private void put(FileRecord f) {
        kv.set(fileKey(f.storeId(), f.fileId()), json(f));
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private static String newId(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    // ---- stores

    private State state(String tenant, String storeId) {
        State s = storeId == null ? null : kv.shared() ? fresh(storeId) : stores.get(storeId);
        if (s == null || s.deleted || !visible(s.record, tenant)) {
            throw new NotFoundException("vector_store_id", "no vector store " + storeId);
        }
        return s;
    }

    /** The store's state, read again from the shared state store when unknown here or older than a second. */
    private State fresh(String storeId) {
        State s = stores.get(storeId);
        return s != null && System.nanoTime() - s.readAt <= REREAD_NANOS ? s : reread(storeId);
    }

    /** Over a shared state store, how stale a store's state may be before it is read again (a search reads it at most this often). */
    private static final long REREAD_NANOS = 1_000_000_000L;

    /**
     * A store as the shared state store has it now (several nodes write it): its record, files and batches read again
     * into the state kept here; a store deleted elsewhere is gone. Files in progress elsewhere are not taken up here.
     * A store unknown here is read at once; a known one at most every second ({@link #REREAD_NANOS}), so searches do not
     * each scan its files.
     */
    private State reread(String storeId) {
        Optional<String> record = kv.get(storeKey(storeId));
        if (record.isEmpty()) {
            State gone = stores.remove(storeId);
            if (gone != null) {
                gone.deleted = true;
            }
            return null;
        }
        StoreRecord r = parse(record.get(), StoreRecord.class);
        State s = stores.computeIfAbsent(storeId, id -> {
            provider(r).createStore(r.id(), r.dimension());
            return new State(r);
        });
        s.record = r;
        s.readAt = System.nanoTime();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (var e : kv.prefix("vs/file/" + storeId + "/")) {
            FileRecord f = parse(e.getValue(), FileRecord.class);
            seen.add(f.fileId());
            if (!f.equals(s.files.get(f.fileId()))) {
                s.put(f);
            }
        }
        for (String fileId : List.copyOf(s.files.keySet())) {
            if (!seen.contains(fileId)) {
                s.remove(fileId);
            }
        }
        for (var e : kv.prefix("vs/batch/" + storeId + "/")) {
            BatchRecord b = parse(e.getValue(), BatchRecord.class);
            s.batches.put(b.id(), b);
        }
        return s;
    }

    /** The store, to change: only its own tenant may (a knowledge folder's store is read-only to API keys). */
    private State owned(String tenant, String storeId) {
        State s = state(tenant, storeId);
        if (!Objects.equals(s.record.tenant(), tenant)) {
            throw new InvalidRequestException("vector_store_id", "vector store " + storeId
                    + " is the server's own (a knowledge folder): it can be searched, not changed");
        }
        return s;
    }

    /** A store is its tenant's; one with no tenant (made by the server itself: a knowledge folder) is everyone's. */
    private static boolean visible(StoreRecord r, String tenant) {
        return r.tenant() == null || Objects.equals(r.tenant(), tenant);
    }

    private Store view(State s) {
        StoreRecord r = s.record;
        Totals totals = s.totals();
        FileCounts counts = totals.counts();
        long usage = totals.usageBytes();
        Long expiresAt = r.expiresAfterDays() == null ? null : r.lastActiveAt() + r.expiresAfterDays() * 86_400L;
        String status = expiresAt != null && now() >= expiresAt ? "expired" : counts.inProgress() > 0 ? "in_progress" : "completed";
        return new Store(r.id(), r.name(), r.createdAt(), r.metadata(), r.expiresAfterDays(), expiresAt, r.lastActiveAt(),
                r.embeddingModel(), r.dimension(), r.providerId(), counts, usage, status);
    }

    private static FileCounts counts(java.util.Collection<FileRecord> fs) {
        int inProgress = 0, completed = 0, failed = 0, cancelled = 0;
        for (FileRecord f : fs) {
            switch (f.status()) {
                case "in_progress" -> inProgress++;
                case "completed" -> completed++;
                case "failed" -> failed++;
                default -> cancelled++;
            }
        }
        return new FileCounts(inProgress, completed, failed, cancelled);
    }

    private static Map<String, Object> checkedMetadata(String param, Map<String, Object> m) {
        if (m == null) {
            return Map.of();
        }
        if (m.size() > MAX_ATTRIBUTES) {
            throw new InvalidRequestException(param, param + " takes at most " + MAX_ATTRIBUTES + " keys");
        }
        for (var e : m.entrySet()) {
            if (e.getKey().length() > 64) {
                throw new InvalidRequestException(param, param + " keys are at most 64 characters");
            }
            if (!(e.getValue() instanceof String || e.getValue() instanceof Number || e.getValue() instanceof Boolean)) {
                throw new InvalidRequestException(param, param + "." + e.getKey() + " must be a string, number or boolean");
            }
            if (e.getValue() instanceof String v && v.length() > 512) {
                throw new InvalidRequestException(param, param + "." + e.getKey() + " is longer than 512 characters");
            }
            if (e.getKey().startsWith("corral.")) {
                throw new InvalidRequestException(param, "keys starting with 'corral.' are Corral's own");
            }
        }
        return Map.copyOf(m);
    }

    @Override
    public Store create(String tenant, NewStore request) {
        String model = request.embeddingModel() != null ? request.embeddingModel() : defaultModel();
        int dimension = embedder.dimension(model);
        if (request.dimension() != null && request.dimension() != dimension) {
            throw new InvalidRequestException("embedding_dimension", "model " + model + " makes " + dimension
                    + "-dimensional vectors, not " + request.dimension());
        }
        String providerId = request.providerId() != null ? request.providerId() : defaultProvider;
        if (request.expiresAfterDays() != null && (request.expiresAfterDays() < 1 || request.expiresAfterDays() > 365)) {
            throw new InvalidRequestException("expires_after", "expires_after.days must be from 1 to 365");
        }
        long now = now();
        String id = request.id() != null ? request.id() : newId("vs_");
        if (!id.matches("[A-Za-z0-9_.-]{1,128}")) {
            throw new InvalidRequestException("id", "a vector store id is 1 to 128 letters, digits, '_', '-' or '.'");
        }
        StoreRecord r = new StoreRecord(id, tenant, request.name() == null ? "" : request.name(), now,
                checkedMetadata("metadata", request.metadata()), request.expiresAfterDays(), now, model, dimension, providerId);
        List<String> fileIds = request.fileIds() == null ? List.of() : request.fileIds();
        fileIds.forEach(f -> fileInfo(tenant, f));
        State s = new State(r);
        if (stores.putIfAbsent(id, s) != null) {
            throw new InvalidRequestException("id", "vector store " + id + " exists already");
        }
        gate.readLock().lock();
        try {
            provider(r).createStore(id, dimension);
            kv.set(storeKey(id), json(r));
        } catch (RuntimeException e) {
            stores.remove(id);
            throw e;
        } finally {
            gate.readLock().unlock();
        }
        if (!fileIds.isEmpty()) {
            addFiles(tenant, id, fileIds, null, request.chunking(), null);
        }
        return view(s);
    }

    private String defaultModel() {
        if (config.defaultEmbeddingModel() != null) {
            return config.defaultEmbeddingModel();
        }
        return embedder.models().stream().findFirst()
                .orElseThrow(() -> new InvalidRequestException("embedding_model", "no embedding model is served; name one"))
                .id();
    }

    @Override
    public List<Store> list(String tenant) {
        if (kv.shared()) {
            java.util.Set<String> ids = new java.util.HashSet<>(stores.keySet());
            kv.prefix("vs/store/").forEach(e -> ids.add(e.getKey().substring("vs/store/".length())));
            ids.forEach(this::fresh);
        }
        return stores.values().stream().filter(s -> !s.deleted && visible(s.record, tenant))
                .sorted(Comparator.comparingLong((State s) -> s.record.createdAt()).reversed()
                        .thenComparing(s -> s.record.id(), Comparator.reverseOrder()))
                .map(this::view).toList();
    }

    @Override
    public Store get(String tenant, String storeId) {
        return view(state(tenant, storeId));
    }

    @Override
    public Store update(String tenant, String storeId, String name, Map<String, Object> metadata, Integer expiresAfterDays) {
        State s = owned(tenant, storeId);
        if (expiresAfterDays != null && (expiresAfterDays < 0 || expiresAfterDays > 365)) {
            throw new InvalidRequestException("expires_after", "expires_after.days must be from 1 to 365");
        }
        s.lock.lock();
        try {
            StoreRecord r = s.record;
            StoreRecord n = new StoreRecord(r.id(), r.tenant(), name != null ? name : r.name(), r.createdAt(),
                    metadata != null ? checkedMetadata("metadata", metadata) : r.metadata(),
                    expiresAfterDays == null ? r.expiresAfterDays() : expiresAfterDays == 0 ? null : expiresAfterDays,
                    now(), r.embeddingModel(), r.dimension(), r.providerId());
            kv.set(storeKey(r.id()), json(n));
            s.record = n;
        } finally {
            s.lock.unlock();
        }
        return view(s);
    }

    @Override
    public void delete(String tenant, String storeId) {
        State s = owned(tenant, storeId);
        gate.readLock().lock();
        s.lock.lock();
        try {
            s.deleted = true;
            for (String f : List.copyOf(s.files.keySet())) {
                kv.delete(fileKey(storeId, f));
            }
            for (String b : List.copyOf(s.batches.keySet())) {
                kv.delete(batchKey(storeId, b));
            }
            kv.delete(storeKey(storeId));
            stores.remove(storeId);
            provider(s.record).deleteStore(storeId);
        } finally {
            s.lock.unlock();
            gate.readLock().unlock();
            progressed();
        }
    }

    // ---- files

    private FilesProvider.FileInfo fileInfo(String tenant, String fileId) {
        return files.get(tenant, fileId).orElseThrow(() -> new NotFoundException("file_id", "no file " + fileId));
    }

    @Override
    public StoreFile addFile(String tenant, String storeId, String fileId, Map<String, Object> attributes, Chunking chunking) {
        return addFile(tenant, storeId, fileId, attributes, chunking, null);
    }

    private StoreFile addFile(String tenant, String storeId, String fileId, Map<String, Object> attributes, Chunking chunking,
                              String batchId) {
        return addFiles(tenant, storeId, List.of(fileId), attributes, chunking, batchId).getFirst();
    }

    /** Records the files {@code in_progress} in one write, then queues them for the workers. */
    private List<StoreFile> addFiles(String tenant, String storeId, List<String> fileIds, Map<String, Object> attributes,
                                     Chunking chunking, String batchId) {
        State s = owned(tenant, storeId);
        List<FilesProvider.FileInfo> infos = fileIds.stream().map(id -> fileInfo(tenant, id)).toList();
        Map<String, Object> attrs = checkedMetadata("attributes", attributes);
        List<FileRecord> added = new ArrayList<>();
        s.lock.lock();
        try {
            Map<String, String> writes = new java.util.TreeMap<>();
            long now = now();
            for (FilesProvider.FileInfo info : infos) {
                FileRecord old = s.files.get(info.id());
                FileRecord f = new FileRecord(storeId, info.id(), info.filename(), old != null ? old.createdAt() : now, "in_progress",
                        0, attrs, chunking != null ? chunking : Chunking.AUTO, null, batchId, old != null ? old.generation() + 1 : 1);
                writes.put(fileKey(storeId, f.fileId()), json(f));
                if (kv.shared()) {
                    writes.put(ingestingKey(storeId, f.fileId()), "");
                }
                added.add(f);
            }
            kv.setAll(writes);
            added.forEach(s::put);
        } finally {
            s.lock.unlock();
        }
        added.forEach(f -> {
            leases.take(work(storeId, f.fileId()));
            jobs.add(new Job(storeId, f.fileId(), f.generation()));
        });
        return added.stream().map(VectorStoreService::view).toList();
    }

    private static StoreFile view(FileRecord f) {
        return new StoreFile(f.fileId(), f.storeId(), f.filename(), f.createdAt(), f.status(), f.usageBytes(), f.attributes(),
                f.chunking(), f.lastError());
    }

    private static final Comparator<FileRecord> NEWEST_FIRST =
            Comparator.comparingLong(FileRecord::createdAt).reversed().thenComparing(FileRecord::fileId, Comparator.reverseOrder());

    @Override
    public List<StoreFile> files(String tenant, String storeId, String status) {
        return state(tenant, storeId).files.values().stream().filter(f -> status == null || f.status().equals(status))
                .sorted(NEWEST_FIRST).map(VectorStoreService::view).toList();
    }

    private FileRecord fileRecord(State s, String fileId) {
        FileRecord f = s.files.get(fileId);
        if (f == null) {
            throw new NotFoundException("file_id", "no file " + fileId + " in vector store " + s.record.id());
        }
        return f;
    }

    @Override
    public StoreFile file(String tenant, String storeId, String fileId) {
        return view(fileRecord(state(tenant, storeId), fileId));
    }

    @Override
    public StoreFile updateFile(String tenant, String storeId, String fileId, Map<String, Object> attributes) {
        State s = owned(tenant, storeId);
        FileRecord f = fileRecord(s, fileId);
        // the attributes are in every chunk's metadata (filters read them there): the file is indexed again
        return addFile(tenant, storeId, fileId, attributes, f.chunking(), f.batchId());
    }

    @Override
    public void removeFile(String tenant, String storeId, String fileId) {
        State s = owned(tenant, storeId);
        gate.readLock().lock();
        s.lock.lock();
        try {
            fileRecord(s, fileId);
            s.remove(fileId);
            kv.delete(fileKey(storeId, fileId));
            VectorIoProvider io = provider(s.record);
            io.delete(storeId, Filter.eq(FILE_ID, fileId));
            io.flush(storeId);
        } finally {
            s.lock.unlock();
            gate.readLock().unlock();
            progressed();
        }
    }

    @Override
    public Content content(String tenant, String storeId, String fileId) {
        State s = state(tenant, storeId);
        FileRecord f = fileRecord(s, fileId);
        try {
            return new Content(fileId, f.filename(), f.attributes(), Chunker.chunks(text(s.record.tenant(), f), f.chunking()));
        } catch (DocumentReader.Unreadable e) {
            throw new InvalidRequestException("file_id", "file " + fileId + " cannot be read: " + e.getMessage());
        }
    }

    private String text(String tenant, FileRecord f) throws DocumentReader.Unreadable {
        FilesProvider.FileInfo info = files.get(tenant, f.fileId())
                .orElseThrow(() -> new DocumentReader.Unreadable("invalid_file", "the file " + f.fileId() + " was deleted"));
        if (info.bytes() > config.maxFileBytes()) {
            throw new DocumentReader.Unreadable("invalid_file", "the file is larger than " + config.maxFileBytes() + " bytes");
        }
        try (InputStream in = files.content(tenant, f.fileId())
                .orElseThrow(() -> new DocumentReader.Unreadable("invalid_file", "the file " + f.fileId() + " was deleted"))) {
            return DocumentReader.read(f.filename(), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- batches

    @Override
    public Batch createBatch(String tenant, String storeId, List<String> fileIds, Map<String, Object> attributes, Chunking chunking) {
        State s = owned(tenant, storeId);
        if (fileIds == null || fileIds.isEmpty() || fileIds.size() > 2000) {
            throw new InvalidRequestException("file_ids", "file_ids must name 1 to 2000 files");
        }
        fileIds.forEach(id -> fileInfo(tenant, id));
        checkedMetadata("attributes", attributes);
        BatchRecord b = new BatchRecord(newId("vsfb_"), storeId, now(), false);
        kv.set(batchKey(storeId, b.id()), json(b));
        s.batches.put(b.id(), b);
        addFiles(tenant, storeId, List.copyOf(new java.util.LinkedHashSet<>(fileIds)), attributes, chunking, b.id());
        return view(s, b);
    }

    private Batch view(State s, BatchRecord b) {
        FileCounts counts = counts(s.files.values().stream().filter(f -> b.id().equals(f.batchId())).toList());
        String status = b.cancelled() ? "cancelled" : counts.inProgress() > 0 ? "in_progress"
                : counts.completed() == 0 && counts.failed() > 0 ? "failed" : "completed";
        return new Batch(b.id(), b.storeId(), b.createdAt(), status, counts);
    }

    private BatchRecord batchRecord(State s, String batchId) {
        BatchRecord b = s.batches.get(batchId);
        if (b == null) {
            throw new NotFoundException("batch_id", "no file batch " + batchId + " in vector store " + s.record.id());
        }
        return b;
    }

    @Override
    public Batch batch(String tenant, String storeId, String batchId) {
        State s = state(tenant, storeId);
        return view(s, batchRecord(s, batchId));
    }

    @Override
    public Batch cancelBatch(String tenant, String storeId, String batchId) {
        State s = owned(tenant, storeId);
        BatchRecord b = batchRecord(s, batchId);
        s.lock.lock();
        try {
            BatchRecord c = new BatchRecord(b.id(), b.storeId(), b.createdAt(), true);
            kv.set(batchKey(storeId, batchId), json(c));
            s.batches.put(batchId, c);
            for (FileRecord f : List.copyOf(s.files.values())) {
                if (batchId.equals(f.batchId()) && f.status().equals("in_progress")) {
                    FileRecord cancelled = f.with("cancelled", 0, null);
                    put(cancelled);
                    s.put(cancelled);
                    provider(s.record).delete(storeId, Filter.eq(FILE_ID, f.fileId()));
                }
            }
            return view(s, c);
        } finally {
            s.lock.unlock();
            progressed();
        }
    }

    @Override
    public List<StoreFile> batchFiles(String tenant, String storeId, String batchId, String status) {
        State s = state(tenant, storeId);
        batchRecord(s, batchId);
        return s.files.values().stream().filter(f -> batchId.equals(f.batchId()) && (status == null || f.status().equals(status)))
                .sorted(NEWEST_FIRST).map(VectorStoreService::view).toList();
    }

    // ---- search

    /**
     * The store's chunks best matching {@code text}, for search and chunk queries alike: the store must not have expired,
     * the text must not be empty; some more than {@code k} are asked for, as chunks of files not completed are left out after.
     */
    private List<VectorIoProvider.Hit> query(State s, String text, VectorIoProvider.Mode mode, int k, Filter filter,
                                             io.corral.spi.Ranker ranker, boolean vectors) {
        Store store = view(s);
        if (store.status().equals("expired")) {
            throw new InvalidRequestException("vector_store_id", "vector store " + store.id() + " has expired");
        }
        String stripped = text.strip();
        if (stripped.isEmpty()) {
            throw new InvalidRequestException("query", "query must not be empty");
        }
        float[] embedding = mode == VectorIoProvider.Mode.KEYWORD ? null
                : embedder.embed(store.embeddingModel(), List.of(stripped)).getFirst();
        int pending = store.fileCounts().total() - store.fileCounts().completed();
        var q = new VectorIoProvider.Query(stripped, embedding, mode, k + Math.min(pending, 50), filter, ranker);
        var hits = provider(s.record).query(store.id(), vectors ? q.withVectors() : q);
        touch(s);
        return hits;
    }

    @Override
    public List<Result> search(String tenant, String storeId, Search search) {
        State s = state(tenant, storeId);
        int k = search.maxResults();
        var hits = query(s, String.join(" ", search.queries()), search.mode(), k, search.filter(), search.ranker(), false);
        List<Result> results = new ArrayList<>(k);
        for (var hit : hits) {
            Map<String, Object> meta = hit.chunk().metadata();
            if (hit.score() < search.scoreThreshold()) {
                continue;
            }
            if (meta.get(CHUNK_ID) instanceof String) { // put in whole: its own metadata names its file, if any
                results.add(new Result(String.valueOf(meta.getOrDefault("file_id", "")), String.valueOf(meta.getOrDefault("filename", "")),
                        hit.score(), attributes(meta), hit.chunk().content()));
            } else {
                FileRecord f = completedFile(s, meta);
                if (f == null) {
                    continue;
                }
                results.add(new Result(f.fileId(), f.filename(), hit.score(), f.attributes(), hit.chunk().content()));
            }
            if (results.size() == k) {
                break;
            }
        }
        return results;
    }

    /** The completed file whose chunk (of its current generation) has this metadata, or null: such chunks are not found. */
    private static FileRecord completedFile(State s, Map<String, Object> meta) {
        FileRecord f = s.files.get(String.valueOf(meta.get(FILE_ID)));
        return f == null || !f.status().equals("completed") || !(meta.get(GENERATION) instanceof Number g && g.intValue() == f.generation())
                ? null : f;
    }

    /** A stored chunk's attributes: its metadata less Corral's own keys. */
    private static Map<String, Object> attributes(Map<String, Object> meta) {
        Map<String, Object> out = new LinkedHashMap<>();
        meta.forEach((key, value) -> {
            if (!key.startsWith("corral.")) {
                out.put(key, value);
            }
        });
        return out;
    }

    @Override
    public void insertChunks(String tenant, String storeId, List<EmbeddedChunk> chunks) {
        insert(tenant, storeId, chunks, null);
    }

    @Override
    public void insertDocument(String tenant, String storeId, String documentId, String text, Map<String, Object> metadata, Chunking chunking) {
        if (documentId == null || documentId.isBlank()) {
            throw new InvalidRequestException("document_id", "a document needs its document_id");
        }
        List<String> pieces = Chunker.chunks(text == null ? "" : text, chunking == null ? Chunking.AUTO : chunking);
        if (pieces.isEmpty()) {
            throw new InvalidRequestException("content", "document " + documentId + " has no text");
        }
        Map<String, Object> meta = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
        meta.put("document_id", documentId);
        List<EmbeddedChunk> chunks = new ArrayList<>(pieces.size());
        for (int i = 0; i < pieces.size(); i++) {
            chunks.add(new EmbeddedChunk(documentId + "#" + i, pieces.get(i), meta, Map.of("document_id", documentId, "chunk_id", documentId + "#" + i),
                    null, null));
        }
        insert(tenant, storeId, chunks, documentId);
    }

    /** Puts chunks in whole; those of {@code document} (not null) replace all of that document's earlier ones. */
    private void insert(String tenant, String storeId, List<EmbeddedChunk> chunks, String document) {
        State s = owned(tenant, storeId);
        if (view(s).status().equals("expired")) {
            throw new InvalidRequestException("vector_store_id", "vector store " + storeId + " has expired");
        }
        int most = document == null ? 2048 : 50_000; // a call's chunks; a document's pieces
        if (chunks == null || chunks.isEmpty() || chunks.size() > most) {
            throw new InvalidRequestException(document == null ? "chunks" : "content", document == null
                    ? "chunks must hold 1 to 2048 chunks" : "document " + document + " makes more than " + most + " chunks");
        }
        StoreRecord r = s.record;
        List<String> unembedded = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            EmbeddedChunk c = chunks.get(i);
            String at = "chunks[" + i + "]";
            if (c.id().isBlank() || c.id().length() > MAX_CHUNK_ID) {
                throw new InvalidRequestException(at + ".chunk_id", "a chunk_id is 1 to " + MAX_CHUNK_ID + " characters");
            }
            if (c.embedding() == null) {
                unembedded.add(c.content());
            } else if (c.embedding().length != r.dimension()) {
                throw new InvalidRequestException(at + ".embedding", "chunk " + c.id() + " has an embedding of " + c.embedding().length
                        + " dimensions; vector store " + storeId + " holds " + r.dimension() + " (" + r.embeddingModel() + ")");
            }
            for (var m : List.of(Map.entry("metadata", c.metadata()), Map.entry("chunk_metadata", c.chunkMetadata()))) {
                if (json(m.getValue()).length() > MAX_CHUNK_METADATA) {
                    throw new InvalidRequestException(at + "." + m.getKey(), m.getKey() + " is over " + MAX_CHUNK_METADATA + " characters as JSON");
                }
            }
        }
        List<float[]> made = new ArrayList<>(unembedded.size());
        for (int i = 0; i < unembedded.size(); i += EMBED_BATCH) {
            made.addAll(embedder.embed(r.embeddingModel(), unembedded.subList(i, Math.min(unembedded.size(), i + EMBED_BATCH))));
        }
        List<VectorIoProvider.Chunk> out = new ArrayList<>(chunks.size());
        int next = 0;
        for (EmbeddedChunk c : chunks) {
            Map<String, Object> meta = new HashMap<>();
            c.metadata().forEach((key, value) -> {
                if (!key.startsWith("corral.") && (value instanceof String || value instanceof Number || value instanceof Boolean)) {
                    meta.put(key, value);
                }
            });
            meta.put(CHUNK_ID, c.id());
            meta.put(METADATA, json(c.metadata()));
            meta.put(CHUNK_METADATA, json(c.chunkMetadata()));
            String model = c.embedding() == null || c.embeddingModel() == null ? r.embeddingModel() : c.embeddingModel();
            meta.put(EMBEDDING_MODEL, model);
            if (document != null) {
                meta.put(DOCUMENT_ID, document);
            }
            out.add(new VectorIoProvider.Chunk(CHUNK_PREFIX + c.id(), c.content(), meta, c.embedding() != null ? c.embedding() : made.get(next++)));
        }
        gate.readLock().lock(); // not between a backup's records and its chunks
        s.lock.lock();
        try {
            state(tenant, storeId); // not deleted meanwhile
            VectorIoProvider io = provider(r);
            if (document != null) {
                io.delete(storeId, Filter.eq(DOCUMENT_ID, document)); // a shorter new version leaves none of the old behind
            }
            io.insert(storeId, out);
            io.flush(storeId); // acknowledged: durable
        } finally {
            s.lock.unlock();
            gate.readLock().unlock();
        }
        touch(s);
    }

    @Override
    public List<ScoredChunk> queryChunks(String tenant, String storeId, ChunkQuery query) {
        State s = state(tenant, storeId);
        String model = s.record.embeddingModel();
        int k = query.maxChunks();
        var hits = query(s, query.text(), query.mode(), k, null, query.ranker(), true);
        List<ScoredChunk> out = new ArrayList<>(k);
        for (var hit : hits) {
            if (hit.score() < query.scoreThreshold()) {
                continue;
            }
            Map<String, Object> meta = hit.chunk().metadata();
            EmbeddedChunk c;
            if (meta.get(CHUNK_ID) instanceof String id) {
                c = new EmbeddedChunk(id, hit.chunk().content(), object(meta.get(METADATA)), object(meta.get(CHUNK_METADATA)),
                        hit.chunk().embedding(), String.valueOf(meta.getOrDefault(EMBEDDING_MODEL, model)));
            } else {
                FileRecord f = completedFile(s, meta);
                if (f == null) {
                    continue;
                }
                // a file's chunk as Llama Stack describes one: its file in the metadata, its place in the chunk metadata
                Map<String, Object> m = new LinkedHashMap<>(f.attributes());
                m.put("file_id", f.fileId());
                m.put("filename", f.filename());
                Map<String, Object> cm = new LinkedHashMap<>();
                cm.put("chunk_id", hit.chunk().id());
                cm.put("document_id", f.fileId());
                cm.put("source", f.filename());
                c = new EmbeddedChunk(hit.chunk().id(), hit.chunk().content(), m, cm, hit.chunk().embedding(), model);
            }
            out.add(new ScoredChunk(c, hit.score()));
            if (out.size() == k) {
                break;
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object json) {
        return json instanceof String text ? parse(text, Map.class) : Map.of();
    }

    /** Records activity (a store expires some days after its last), persisted at most once a minute. */
    private void touch(State s) {
        StoreRecord r = s.record;
        long now = now();
        if (r.expiresAfterDays() != null && now - r.lastActiveAt() >= 60) {
            StoreRecord n = new StoreRecord(r.id(), r.tenant(), r.name(), r.createdAt(), r.metadata(), r.expiresAfterDays(), now,
                    r.embeddingModel(), r.dimension(), r.providerId());
            s.record = n;
            kv.set(storeKey(r.id()), json(n));
        }
    }

    // ---- ingestion

    /** A file read and chunked, waiting for its embeddings. */
    private record Prepared(Job job, State state, FileRecord file, List<String> chunks) {
    }

    /**
     * Takes queued files, several at a time: reads and chunks them until about {@link #EMBED_BATCH} chunks are
     * gathered, embeds those in one request (the model spreads a request's inputs over the cores, so small files
     * embed as fast as large ones), then indexes each file.
     */
    private void work() {
        while (!closed) {
            Job job;
            try {
                job = jobs.take();
            } catch (InterruptedException e) {
                return;
            }
            List<Prepared> batch = new ArrayList<>();
            int chunks = 0;
            while (job != null) {
                Prepared p = prepare(job);
                if (p != null) {
                    batch.add(p);
                    chunks += p.chunks().size();
                }
                job = chunks < EMBED_BATCH ? jobs.poll() : null;
            }
            try {
                if (!batch.isEmpty()) {
                    embedAndIndex(batch);
                }
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "ingesting " + batch.size() + " file(s) failed", e);
                    for (Prepared p : batch) {
                        finish(p.job(), "failed", new LastError("server_error", e.getMessage() == null ? e.toString() : e.getMessage()));
                    }
                }
            }
        }
    }

    /** The file's record, when the job is still what is wanted of it. */
    private FileRecord current(State s, Job job) {
        FileRecord f = s == null || s.deleted ? null : s.files.get(job.fileId());
        return f != null && f.generation() == job.generation() && f.status().equals("in_progress") ? f : null;
    }

    /** Reads and chunks the job's file; null when there is nothing to embed (the job is stale, or the file failed). */
    private Prepared prepare(Job job) {
        String work = work(job.storeId(), job.fileId());
        if (!leases.take(work)) {
            return null; // another node ingests it
        }
        State s = stores.get(job.storeId());
        if (s != null && kv.shared()) { // what another node did to the file meanwhile (a node that held it finished it)
            kv.get(fileKey(job.storeId(), job.fileId())).map(v -> parse(v, FileRecord.class)).ifPresent(r -> {
                s.lock.lock();
                try {
                    s.put(r);
                } finally {
                    s.lock.unlock();
                }
            });
        }
        FileRecord f = current(s, job);
        if (f == null) {
            leases.release(work);
            return null;
        }
        try {
            List<String> chunks = Chunker.chunks(text(s.record.tenant(), f), f.chunking());
            if (chunks.isEmpty()) {
                throw new DocumentReader.Unreadable("invalid_file", "the file has no text");
            }
            return new Prepared(job, s, f, chunks);
        } catch (DocumentReader.Unreadable e) {
            finish(job, "failed", new LastError(e.code(), e.getMessage()));
        } catch (RuntimeException e) {
            finish(job, "failed", new LastError("server_error", e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        return null;
    }

    private void embedAndIndex(List<Prepared> batch) {
        Map<String, List<Prepared>> byModel = new LinkedHashMap<>();
        batch.forEach(p -> byModel.computeIfAbsent(p.state().record.embeddingModel(), m -> new ArrayList<>()).add(p));
        for (var e : byModel.entrySet()) {
            List<String> texts = new ArrayList<>();
            e.getValue().forEach(p -> texts.addAll(p.chunks()));
            List<float[]> vectors = new ArrayList<>(texts.size());
            for (int i = 0; i < texts.size(); i += EMBED_BATCH) {
                vectors.addAll(embedder.embed(e.getKey(), texts.subList(i, Math.min(texts.size(), i + EMBED_BATCH))));
            }
            int at = 0;
            for (Prepared p : e.getValue()) {
                index(p, vectors.subList(at, at + p.chunks().size()));
                at += p.chunks().size();
            }
        }
    }

    /** Replaces the file's chunks in the store; the committer then makes them durable and the file completed. */
    private void index(Prepared p, List<float[]> vectors) {
        FileRecord f = p.file();
        List<VectorIoProvider.Chunk> out = new ArrayList<>(vectors.size());
        long bytes = 0;
        for (int i = 0; i < vectors.size(); i++) {
            Map<String, Object> meta = new HashMap<>(f.attributes());
            meta.put(FILE_ID, f.fileId());
            meta.put(FILENAME, f.filename());
            meta.put(CHUNK, i);
            meta.put(GENERATION, f.generation());
            out.add(new VectorIoProvider.Chunk(f.fileId() + "#" + i, p.chunks().get(i), meta, vectors.get(i)));
            bytes += p.chunks().get(i).getBytes(StandardCharsets.UTF_8).length;
        }
        State s = p.state();
        s.lock.lock();
        try {
            if (current(s, p.job()) == null) {
                return;
            }
            VectorIoProvider io = provider(s.record);
            if (f.generation() > 1) {
                // an earlier version's chunks (a first version's are replaced by id: the same content makes the same chunks)
                io.delete(s.record.id(), Filter.eq(FILE_ID, f.fileId()));
            }
            io.insert(s.record.id(), out);
        } finally {
            s.lock.unlock();
        }
        indexed.add(new Indexed(s.record.id(), f.fileId(), p.job().generation(), bytes));
    }

    /** Records the end of a job (failed, or completed by the committer), unless the file changed meanwhile. */
    private void finish(Job job, String status, LastError error) {
        State s = stores.get(job.storeId());
        if (s == null) {
            return;
        }
        s.lock.lock();
        try {
            FileRecord f = current(s, job);
            if (f != null) {
                FileRecord done = f.with(status, 0, error);
                if (kv.shared()) {
                    fenced(s, f, done);
                } else {
                    put(done);
                    s.put(done);
                }
            }
        } finally {
            s.lock.unlock();
            leases.release(work(job.storeId(), job.fileId()));
        }
        progressed();
    }

    /** The lease name of a file's ingestion. */
    private static String work(String storeId, String fileId) {
        return "ingest/" + storeId + "/" + fileId;
    }

    /**
     * Over a shared state store, a file's end is written only over its record as it stands there, still this generation
     * in progress (a compare-and-set): a node stalled past its lease, whose work another node finished and whose file
     * may since have been deleted or added again, does not write an old end over what came after. Written, the file
     * leaves {@code vs/ingesting/}; not (the record moved on), this node's view of the file is brought up to date.
     * Under the store's lock.
     */
    private void fenced(State s, FileRecord f, FileRecord done) {
        String key = fileKey(f.storeId(), f.fileId());
        String now = kv.get(key).orElse(null);
        FileRecord stored = now == null ? null : parse(now, FileRecord.class);
        if (stored != null && stored.status().equals("in_progress") && stored.generation() == f.generation()
                && kv.compareAndSet(key, now, json(done), null)) {
            s.put(done);
            kv.delete(ingestingKey(f.storeId(), f.fileId()));
            return;
        }
        String again = kv.get(key).orElse(null);
        if (again == null) {
            s.remove(f.fileId());
        } else {
            s.put(parse(again, FileRecord.class));
        }
    }

    /**
     * Queues the files in progress that no node holds (their node died); returns how many. They are found under
     * {@code vs/ingesting/}; an entry whose file is no longer in progress (its node died between the two writes, or the
     * file or store was deleted) is removed.
     */
    synchronized int takeOver() {
        int taken = 0;
        for (var e : kv.prefix("vs/ingesting/")) {
            String[] at = e.getKey().substring("vs/ingesting/".length()).split("/", 2);
            FileRecord f = at.length < 2 ? null : kv.get(fileKey(at[0], at[1])).map(v -> parse(v, FileRecord.class)).orElse(null);
            if (f == null || !f.status().equals("in_progress")) {
                kv.delete(e.getKey());
                continue;
            }
            String work = work(f.storeId(), f.fileId());
            if (leases.holds(work) || !leases.take(work)) {
                continue;
            }
            State s = reread(f.storeId());
            if (s == null) {
                leases.release(work);
                continue;
            }
            LOG.log(System.Logger.Level.INFO, "taking over the ingestion of " + f.fileId() + " in " + f.storeId());
            jobs.add(new Job(f.storeId(), f.fileId(), f.generation()));
            taken++;
        }
        return taken;
    }

    /** Makes finished files durable in groups: one flush per store, then one write recording them completed. */
    private void commit() {
        while (!closed) {
            List<Indexed> group = new ArrayList<>();
            try {
                group.add(indexed.take());
                // while more files are queued, gather for a while: fewer commits make fewer, larger segments
                long deadline = System.nanoTime() + COMMIT_WINDOW_NANOS;
                long left;
                while (!jobs.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                    Indexed more = indexed.poll(left, java.util.concurrent.TimeUnit.NANOSECONDS);
                    if (more != null) {
                        group.add(more);
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
            indexed.drainTo(group);
            gate.readLock().lock();
            try {
                commit(group);
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "committing " + group.size() + " ingested file(s) failed", e);
                    group.forEach(i -> finish(new Job(i.storeId(), i.fileId(), i.generation()), "failed",
                            new LastError("server_error", String.valueOf(e.getMessage()))));
                }
            } finally {
                gate.readLock().unlock();
            }
        }
    }

    private void commit(List<Indexed> group) {
        Set<String> storeIds = new java.util.LinkedHashSet<>();
        group.forEach(i -> storeIds.add(i.storeId()));
        for (String id : storeIds) {
            State s = stores.get(id);
            if (s != null && !s.deleted) {
                provider(s.record).flush(id);
            }
        }
        Map<String, String> writes = new java.util.TreeMap<>();
        List<Runnable> apply = new ArrayList<>();
        List<State> locked = new ArrayList<>();
        for (String id : storeIds) {
            State s = stores.get(id);
            if (s != null) {
                s.lock.lock();
                locked.add(s);
            }
        }
        try {
            for (Indexed i : group) {
                State s = stores.get(i.storeId());
                FileRecord f = current(s, new Job(i.storeId(), i.fileId(), i.generation()));
                if (f != null) {
                    FileRecord done = f.with("completed", i.usageBytes(), null);
                    if (kv.shared()) {
                        fenced(s, f, done);
                    } else {
                        writes.put(fileKey(i.storeId(), i.fileId()), json(done));
                        apply.add(() -> s.put(done));
                    }
                }
            }
            if (!writes.isEmpty()) {
                kv.setAll(writes);
                apply.forEach(Runnable::run);
            }
        } finally {
            locked.forEach(s -> s.lock.unlock());
            group.forEach(i -> leases.release(work(i.storeId(), i.fileId())));
        }
        progressed();
    }

    @Override
    public void backup(java.nio.file.Path dir) {
        if (java.nio.file.Files.exists(dir)) {
            throw new InvalidRequestException("path", dir + " exists; a backup goes into a new folder");
        }
        gate.writeLock().lock(); // no commit, removal or new store meanwhile: the records and the chunks agree
        try {
            copy(dir, kv, files, providers);
        } finally {
            gate.writeLock().unlock();
        }
    }

    /**
     * Copies the state into the new folder {@code dir} in {@link #backup}'s layout (the first provider is the
     * default): what a backup does, and all of it where nothing runs (no server holds the state).
     */
    public static void copy(java.nio.file.Path dir, KeyValueStore kv, FilesProvider files, Map<String, VectorIoProvider> providers) {
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (IOException e) {
            throw new io.corral.api.EngineException("cannot back up to " + dir + ": " + e.getMessage(), e);
        }
        kv.backup(dir.resolve("kvstore.db"));
        files.backup(dir.resolve("files"));
        String first = providers.keySet().iterator().next();
        for (var e : providers.entrySet()) {
            e.getValue().backup(dir.resolve(e.getKey().equals(first) ? "vector_io" : "vector_io-" + e.getKey()));
        }
    }

    /** A store as a migration left it: its chunks on both sides, and whether a search on both found the same. */
    public record Migrated(String storeId, long sourceChunks, long targetChunks, boolean sameResults) {
    }

    /**
     * Copies the state (every record, the stores' now naming {@code toProviderId}) and each store's chunks with
     * their embeddings from one set of providers to another, with nothing running on either; then checks each
     * store by its counts and by a keyword search on both sides. The source is left as it was.
     */
    public static List<Migrated> migrate(KeyValueStore fromKv, Map<String, VectorIoProvider> from, KeyValueStore toKv,
                                         String toProviderId, VectorIoProvider to) {
        Map<String, String> batch = new java.util.TreeMap<>();
        List<StoreRecord> records = new ArrayList<>();
        for (var e : fromKv.prefix("")) {
            String value = e.getValue();
            if (e.getKey().startsWith("vs/store/")) {
                StoreRecord r = parse(value, StoreRecord.class);
                records.add(r);
                value = json(new StoreRecord(r.id(), r.tenant(), r.name(), r.createdAt(), r.metadata(), r.expiresAfterDays(),
                        r.lastActiveAt(), r.embeddingModel(), r.dimension(), toProviderId));
            }
            batch.put(e.getKey(), value);
            if (batch.size() == 500) {
                toKv.setAll(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            toKv.setAll(batch);
        }
        List<Migrated> out = new ArrayList<>();
        for (StoreRecord r : records) {
            VectorIoProvider source = from.get(r.providerId());
            if (source == null) {
                throw new InvalidRequestException("provider_id", "store " + r.id() + " is in vector_io provider " + r.providerId()
                        + ", which the source does not configure");
            }
            to.createStore(r.id(), r.dimension());
            List<String> probes = new ArrayList<>();
            source.scan(r.id(), 500, chunks -> {
                to.insert(r.id(), chunks);
                if (probes.size() < 3 && !chunks.isEmpty()) {
                    probes.add(chunks.getFirst().content());
                }
            });
            to.flush(r.id());
            boolean same = true;
            for (String text : probes) {
                String query = String.join(" ", java.util.Arrays.asList(text.split("\\s+")).subList(0, Math.min(12, text.split("\\s+").length)));
                var q = new VectorIoProvider.Query(query, null, VectorIoProvider.Mode.KEYWORD, 5, null, null);
                same &= source.query(r.id(), q).stream().map(h -> h.chunk().id()).toList()
                        .equals(to.query(r.id(), q).stream().map(h -> h.chunk().id()).toList());
            }
            out.add(new Migrated(r.id(), source.count(r.id()), to.count(r.id()), same));
        }
        return out;
    }

    /** Waits until no file of any store is in progress (tests, the command line's ingest). */
    public void awaitIdle(java.time.Duration timeout) throws InterruptedException, java.util.concurrent.TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (stores.values().stream().anyMatch(s -> s.files.values().stream().anyMatch(f -> f.status().equals("in_progress")))) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    throw new java.util.concurrent.TimeoutException("files are still in progress after " + timeout);
                }
                progress.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** Wakes whoever waits for files to finish. */
    private void progressed() {
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    @Override
    public void close() {
        leases.stopKeeping(); // no other node's file is taken over now: no worker would ingest it
        closed = true;
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        leases.close(); // another node may take the files left in progress here at once
        providers.values().forEach(VectorIoProvider::close);
    }
}
