package io.vmsched.guest;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.dispatch.SliceContext;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.*;

/** The shipped guests' balloons, called directly on the test thread (as a slice would, one at a time). */
class BalloonGuestsTest
{
    private static final long MIB = 1 << 20;
    private static final int CHUNK = MemoryHolderGuest.CHUNK;

    private static BalloonResult ask(final io.vmsched.dispatch.Guest guest, final long memory)
    {
        return guest.balloon().adjust(new BalloonRequest(1, 9, memory, BalloonRequest.UNCHANGED, 0));
    }

    private static void slices(final io.vmsched.dispatch.Guest guest, final int n)
    {
        final SliceContext context = new SliceContext();
        for (int i = 0; i < n; i++)
        {
            guest.runSlice(context);
        }
    }

    @Test
    void theMemoryHolderGivesItsCacheFirstThenItsColdestChunksAndKeepsItsFloor()
    {
        final MemoryHolderGuest guest = new MemoryHolderGuest(8L * CHUNK, 4L * CHUNK, 3L * CHUNK);
        slices(guest, 50);
        assertEquals(12L * CHUNK, guest.bytesHeld());

        BalloonResult result = ask(guest, 10L * CHUNK);
        assertEquals(Outcome.MET, result.outcome());
        assertEquals(2L * CHUNK, guest.cacheBytes(), "the cache goes first");
        assertEquals(8L * CHUNK, guest.workingSetBytes());

        result = ask(guest, 5L * CHUNK + 1000);
        assertEquals(Outcome.MET, result.outcome());
        assertEquals(0, guest.cacheBytes());
        assertEquals(5L * CHUNK + 1000, guest.workingSetBytes(), "then the working set, to the byte");
        slices(guest, 50); // the hot chunks are still there to touch

        result = ask(guest, 0);
        assertEquals(Outcome.SHORT, result.outcome());
        assertEquals(3L * CHUNK, result.memoryBytes());
        assertEquals("it keeps a floor of " + 3L * CHUNK + " bytes of its working set", result.reason());

        result = ask(guest, 100L * CHUNK);
        assertEquals(Outcome.SHORT, result.outcome());
        assertEquals(12L * CHUNK, guest.bytesHeld(), "deflating takes back what it was made with");
        guest.free();
        assertEquals(0, guest.bytesHeld());
    }

    @Test
    void theMemoryHolderKeepsItsSizesAcrossASnapshotAndReadsTheEarlierFormat()
    {
        final MemoryHolderGuest guest = new MemoryHolderGuest(4 * MIB, 2 * MIB, MIB);
        ask(guest, 3 * MIB);
        final MemoryHolderGuest copy = new MemoryHolderGuest(0);
        copy.restore(guest.snapshot());
        assertEquals(3 * MIB, copy.bytesHeld());
        assertEquals(MIB, copy.floorBytes());
        assertEquals(Outcome.SHORT, ask(copy, 10 * MIB).outcome());
        assertEquals(6 * MIB, copy.bytesHeld(), "it still wants what the original was made with");

        final byte[] old = ByteBuffer.allocate(8 + 10_000).putInt(0x4D454D48).putInt(10_000).array(); // 'MEMH'
        copy.restore(old);
        assertEquals(10_000, copy.bytesHeld());
        assertThrows(IllegalArgumentException.class, () -> copy.restore(new byte[]{ 1, 2, 3 }));
        assertThrows(IllegalArgumentException.class, () -> new MemoryHolderGuest(MIB, 0, 2 * MIB));
        guest.free();
        copy.free();
    }

    @Test
    void aSmallerBufferPoolHitsLess()
    {
        final int table = 4096;
        final BufferPoolGuest pool = new BufferPoolGuest(table, 2048, 256);
        slices(pool, 400);
        final double full = pool.hitRate();
        assertEquals(Math.cbrt(2048.0 / table), full, 0.02, "hit rate of the pool of half the table");

        final BalloonResult result = ask(pool, 256L * BufferPoolGuest.PAGE);
        assertEquals(Outcome.MET, result.outcome());
        assertEquals(256, pool.poolPages());
        slices(pool, 400);
        final double small = pool.hitRate();
        assertEquals(Math.cbrt(256.0 / table), small, 0.02, "an eighth of the pool: half the hits");
        assertTrue(small < full - 0.3, full + " -> " + small);

        final BalloonResult floor = ask(pool, 0);
        assertEquals(Outcome.REFUSED, floor.outcome(), "at its floor it gives nothing");
        assertEquals("it keeps a floor of 256 pages (" + 256 * BufferPoolGuest.PAGE + " bytes)", floor.reason());
        assertEquals(Outcome.MET, ask(pool, 2048L * BufferPoolGuest.PAGE).outcome(), "deflating gives the pool back");
        final BufferPoolGuest copy = new BufferPoolGuest();
        copy.restore(pool.snapshot());
        assertEquals(2048, copy.poolPages());
    }
}
