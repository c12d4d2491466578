package io.corral.llamacpp;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which stream of the KV cache a generation starts in: llama.cpp makes a pass over the weights for each run of
 * consecutive sequence ids in a batch, so the running ones are kept in as few runs as can be, and after that the
 * cached sequences lose as little as can be.
 */
class StreamChoiceTest {

    private static KvCache running() {
        KvCache c = new KvCache(null, 512, false);
        c.busy = true;
        return c;
    }

    private static KvCache idle(long lastUsed, boolean session) {
        KvCache c = new KvCache(null, 512, session);
        c.lastUsed = lastUsed;
        return c;
    }

    @Test
    void aGapBetweenRunningSequences_isFilledFirst_evenOverAnEmptyStream() {
        KvCache[] streams = {running(), running(), idle(5, true), running(), null, null};
        assertThat(Scheduler.chooseStream(streams, null, null, false)).isEqualTo(2);
    }

    @Test
    void besideTheRunningOnes_beforeAnEmptyStreamAway_fromThem() {
        KvCache[] streams = {running(), running(), idle(5, false), null, null};
        assertThat(Scheduler.chooseStream(streams, null, null, false)).isEqualTo(2);
        KvCache[] after = {null, idle(5, false), running(), running()};
        assertThat(Scheduler.chooseStream(after, null, null, false)).isEqualTo(1);
        KvCache[] bothSides = {null, idle(5, false), running(), running(), null};
        assertThat(Scheduler.chooseStream(bothSides, null, null, false)).isEqualTo(4);
    }

    @Test
    void amongEquallyPlacedStreams_aSequencesOwnComesFirst_thenAnEmptyOne() {
        KvCache session = idle(1, true);
        KvCache[] streams = {idle(9, false), null, session};
        assertThat(Scheduler.chooseStream(streams, session, null, false)).isEqualTo(2);
        assertThat(Scheduler.chooseStream(streams, null, null, false)).isEqualTo(1);
    }

    @Test
    void withNoEmptyStream_aRequestTakesOverTheSequenceMostlyItsPrefix_ratherThanEvictAnother() {
        KvCache prefix = idle(9, false);
        KvCache[] streams = {idle(1, false), prefix, idle(2, true)};
        assertThat(Scheduler.chooseStream(streams, null, prefix, true)).isEqualTo(1);
        // when it may not (a session's turn, or a prefix of under half that sequence) the least recently used stateless
        // sequence goes, then sessions; the prefix's sequence last, to copy from
        assertThat(Scheduler.chooseStream(streams, idle(0, true), prefix, false)).isEqualTo(0);
        KvCache[] sessions = {idle(4, true), prefix, idle(2, true)};
        assertThat(Scheduler.chooseStream(sessions, idle(0, true), prefix, false)).isEqualTo(2);
    }

    @Test
    void aPrefixToCopy_isKeptToTheLast() {
        KvCache prefix = idle(0, false);
        KvCache[] streams = {prefix, idle(7, true)};
        assertThat(Scheduler.chooseStream(streams, null, prefix, false)).isEqualTo(1);
        KvCache[] alone = {prefix, running()};
        assertThat(Scheduler.chooseStream(alone, null, prefix, false)).isEqualTo(0);
    }

    @Test
    void everyStreamBusy_isNone() {
        assertThat(Scheduler.chooseStream(new KvCache[]{running(), running()}, null, null, false)).isEqualTo(-1);
    }
}
