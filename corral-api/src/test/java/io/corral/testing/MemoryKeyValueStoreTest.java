package io.corral.testing;

import io.corral.spi.KeyValueStore;
import io.corral.spi.MemoryKeyValueStore;

/** The in-memory store keeps the key-value contract (it keeps nothing across opens). */
class MemoryKeyValueStoreTest extends KeyValueStoreContract {

    @Override
    protected KeyValueStore open(TestClock clock) {
        return MemoryKeyValueStore.shared(clock);
    }

    @Override
    protected KeyValueStore reopen(TestClock clock) {
        return null;
    }
}
