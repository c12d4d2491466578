package io.corral.retrieval;

import io.corral.retrieval.lucene.LuceneVectorIo;
import io.corral.spi.VectorIoProvider;
import io.corral.testing.VectorIoProviderContract;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

class LuceneVectorIoTest extends VectorIoProviderContract {

    @TempDir
    Path dir;

    @Override
    protected VectorIoProvider open() {
        return new LuceneVectorIo(dir);
    }

    @Override
    protected VectorIoProvider reopen(VectorIoProvider closed) {
        closed.close();
        return new LuceneVectorIo(dir);
    }
}
