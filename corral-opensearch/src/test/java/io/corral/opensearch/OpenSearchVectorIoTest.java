package io.corral.opensearch;

import io.corral.spi.VectorIoProvider;
import io.corral.testing.VectorIoProviderContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenSearch store keeps the vector_io contract, against a real OpenSearch 3.5 node with the k-NN plugin. */
class OpenSearchVectorIoTest extends VectorIoProviderContract {

    static TestOpenSearch node;
    static final AtomicInteger RUNS = new AtomicInteger();
    String prefix;

    @BeforeAll
    static void startNode() throws Exception {
        node = TestOpenSearch.start();
    }

    @AfterAll
    static void stopNode() throws Exception {
        node.close();
    }

    @Override
    protected VectorIoProvider open() {
        prefix = "corral-t" + RUNS.incrementAndGet() + "-"; // each test its own indices on the shared node
        return new OpenSearchVectorIo(node.url, null, null, prefix);
    }

    @Override
    protected VectorIoProvider reopen(VectorIoProvider closed) {
        closed.close();
        return new OpenSearchVectorIo(node.url, null, null, prefix);
    }

    @Test
    void anyStoreId_makesAnIndexNameOpenSearchAccepts() {
        var io = new OpenSearchVectorIo(node.url, null, null, "corral-");
        assertThat(io.index("vs_abc")).isEqualTo("corral-vs_abc");
        assertThat(io.index("Knowledge")).startsWith("corral-knowledge-").isNotEqualTo(io.index("knowledge"));
        io.createStore("Knowledge", 4);
        assertThat(io.count("Knowledge")).isZero();
        io.deleteStore("Knowledge");
        io.close();
    }
}
