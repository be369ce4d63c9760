package io.vmsched.guest;

import io.vmsched.balloon.Balloon;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import org.agrona.BufferUtil;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A guest that holds memory it really allocates, off-heap (direct buffers in chunks of {@link #CHUNK} bytes,
 * freed at once with {@link BufferUtil#free}, so what it gives back leaves the process): a working set, which it
 * touches every slice (a few hot chunks every time, the rest in turn, so some pages are cold), and a cache. It
 * reports what it holds ({@link SliceContext#reportMemory}), the host's memory load.
 * <p>
 * Its {@link #balloon()} meets the host's memory target with its own knowledge: inflating frees the cache first,
 * then the coldest working-set chunks, and never goes below its floor; deflating takes back the working set,
 * then the cache, up to the sizes it was made with (it wants no more). It accepts any processors target.
 * <p>
 * The snapshot holds the sizes (what it wants, its floor, what it holds now), not the bytes, so a migrated or
 * recovered guest holds what it held; a snapshot of the earlier format (the bytes themselves) restores as a
 * working set of that size, its bytes kept. What the balloon gives back is freed at once; a guest dropped whole
 * (removed, migrated away, or the copy a caller passed to {@code Cluster.admit}) is freed by the GC's cleaner
 * unless {@link #free()} is called.
 * <p>
 * Threading: as every {@link Guest}. {@link #resize(int)} is for the host agent while the entry is stopped, or
 * from the guest's own slice; the balloon runs on the guest's slice. The getters are for the same threads (a
 * test reads them when the guest is not running).
 */
public final class MemoryHolderGuest implements Guest
{
    /** Bytes of one allocation: the unit the balloon frees in (a last chunk may be smaller). */
    public static final int CHUNK = 256 * 1024;
    private static final int PAGE = 4096;
    private static final int HOT_CHUNKS = 2;
    private static final int OLD_MAGIC = 0x4D454D48; // 'MEMH': the bytes themselves
    private static final int SNAPSHOT_MAGIC = 0x4D454D32; // 'MEM2': the sizes
    private static final int SNAPSHOT_LENGTH = 4 + 5 * 8;

    private final List<ByteBuffer> working = new ArrayList<>();
    private final List<Long> lastTouched = new ArrayList<>(); // per working chunk: the slice that last touched it
    private final List<ByteBuffer> cache = new ArrayList<>();
    private long wantedWorking;
    private long wantedCache;
    private long floor;
    private long workingBytes;
    private long cacheBytes;
    private long slice;
    private int rotation;

    /**
     * A working set of this size, no cache, no floor (the balloon may free it all).
     *
     * @param bytes memory to hold, at least 0.
     */
    public MemoryHolderGuest(final int bytes)
    {
        this(bytes, 0, 0);
    }

    /**
     * @param workingSetBytes memory it works in, at least 0.
     * @param cacheBytes      memory it caches in (given up first), at least 0.
     * @param floorBytes      memory it keeps whatever the host asks, in [0, workingSetBytes].
     */
    public MemoryHolderGuest(final long workingSetBytes, final long cacheBytes, final long floorBytes)
    {
        if (workingSetBytes < 0 || cacheBytes < 0 || floorBytes < 0 || floorBytes > workingSetBytes)
        {
            throw new IllegalArgumentException("memory to hold must be >= 0 and the floor within the working set, got " +
                "working set " + workingSetBytes + ", cache " + cacheBytes + ", floor " + floorBytes);
        }
        wantedWorking = workingSetBytes;
        wantedCache = cacheBytes;
        floor = floorBytes;
        grow(working, workingSetBytes, true);
        grow(cache, cacheBytes, false);
    }

    /**
     * Hold a different amount of memory: a working set of this size, no cache, no floor.
     *
     * @param bytes memory to hold, at least 0.
     */
    public void resize(final int bytes)
    {
        if (bytes < 0)
        {
            throw new IllegalArgumentException("memory to hold must be >= 0, got " + bytes);
        }
        freeAll();
        wantedWorking = bytes;
        wantedCache = 0;
        floor = 0;
        grow(working, bytes, true);
    }

    /** @return bytes held: the working set and the cache. */
    public long bytesHeld()
    {
        return workingBytes + cacheBytes;
    }

    /** @return bytes of the working set held. */
    public long workingSetBytes()
    {
        return workingBytes;
    }

    /** @return bytes of the cache held. */
    public long cacheBytes()
    {
        return cacheBytes;
    }

    /** @return the memory it keeps whatever the host asks. */
    public long floorBytes()
    {
        return floor;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        slice++;
        final int n = working.size();
        if (n > 0)
        {
            touch((int)(slice % Math.min(n, HOT_CHUNKS)));
            if (n > HOT_CHUNKS)
            {
                rotation = (rotation + 1) % (n - HOT_CHUNKS); // the rest in turn, one a slice
                touch(HOT_CHUNKS + rotation);
            }
        }
        context.reportMemory(bytesHeld());
    }

    private void touch(final int chunk)
    {
        final ByteBuffer buffer = working.get(chunk);
        final int start = (int)((slice * PAGE) % Math.max(1, buffer.capacity()));
        final int end = Math.min(start + PAGE, buffer.capacity());
        for (int i = start; i < end; i += 64)
        {
            buffer.put(i, (byte)(buffer.get(i) + 1));
        }
        lastTouched.set(chunk, slice);
    }

    @Override
    public Balloon balloon()
    {
        return this::adjust;
    }

    private BalloonResult adjust(final BalloonRequest request)
    {
        final long target = request.memoryBytes();
        final long before = bytesHeld();
        String reason = "";
        if (target != BalloonRequest.UNCHANGED && target < before)
        {
            shrinkCache(Math.max(0, target - workingBytes));
            shrinkWorking(Math.max(floor, target - cacheBytes));
            if (bytesHeld() > target)
            {
                reason = "it keeps a floor of " + floor + " bytes of its working set";
            }
        }
        else if (target != BalloonRequest.UNCHANGED && target > before)
        {
            try
            {
                grow(working, Math.min(wantedWorking, target - cacheBytes) - workingBytes, true);
                grow(cache, Math.min(wantedCache, target - workingBytes) - cacheBytes, false);
            }
            catch (final OutOfMemoryError ex) // direct memory exhausted: keep what it got
            {
                reason = "the JVM's direct memory ran out (" + ex.getMessage() + ")";
            }
            if (reason.isEmpty() && bytesHeld() < target)
            {
                reason = "it wants no more than " + (wantedWorking + wantedCache) + " bytes";
            }
        }
        final long held = bytesHeld();
        final int processors = request.processors(); // any share suits it: -1 (unchanged) lets the host keep it
        final BalloonResult.Outcome outcome = target == BalloonRequest.UNCHANGED || held == target ?
            BalloonResult.Outcome.MET : held == before ? BalloonResult.Outcome.REFUSED : BalloonResult.Outcome.SHORT;
        return new BalloonResult(request.requestId(), request.vmId(), outcome, held, processors,
            outcome == BalloonResult.Outcome.MET ? "" : reason);
    }

    /** Free cache chunks, whole then the last in part, down to this many bytes. */
    private void shrinkCache(final long keep)
    {
        while (cacheBytes > keep)
        {
            final ByteBuffer last = cache.remove(cache.size() - 1);
            cacheBytes -= last.capacity();
            BufferUtil.free(last);
        }
        grow(cache, keep - cacheBytes, false);
    }

    /** Free the coldest working-set chunks (hot ones last) down to this many bytes. */
    private void shrinkWorking(final long keep)
    {
        while (workingBytes > keep)
        {
            int coldest = working.size() - 1;
            for (int i = 0; i < working.size(); i++)
            {
                if (lastTouched.get(i) < lastTouched.get(coldest))
                {
                    coldest = i;
                }
            }
            final ByteBuffer chunk = working.remove(coldest);
            lastTouched.remove(coldest);
            workingBytes -= chunk.capacity();
            BufferUtil.free(chunk);
        }
        grow(working, keep - workingBytes, true);
    }

    /** Allocate this many more bytes (nothing if not above 0) in chunks. */
    private void grow(final List<ByteBuffer> into, final long bytes, final boolean isWorking)
    {
        long left = bytes;
        while (left > 0)
        {
            final int size = (int)Math.min(CHUNK, left);
            final ByteBuffer chunk = ByteBuffer.allocateDirect(size); // zeroed: its pages are resident
            into.add(chunk);
            left -= size;
            if (isWorking)
            {
                lastTouched.add(slice);
                workingBytes += size;
            }
            else
            {
                cacheBytes += size;
            }
        }
    }

    /** Free every chunk now (the guest holds nothing until it is resized or restored). */
    public void free()
    {
        freeAll();
    }

    private void freeAll()
    {
        working.forEach(BufferUtil::free);
        cache.forEach(BufferUtil::free);
        working.clear();
        lastTouched.clear();
        cache.clear();
        workingBytes = 0;
        cacheBytes = 0;
    }

    @Override
    public byte[] snapshot()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(SNAPSHOT_LENGTH);
        buffer.putInt(SNAPSHOT_MAGIC).putLong(wantedWorking).putLong(wantedCache).putLong(floor)
            .putLong(workingBytes).putLong(cacheBytes);
        return buffer.array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        final int magic = state.length >= 4 ? buffer.getInt() : 0;
        if (magic == SNAPSHOT_MAGIC && state.length == SNAPSHOT_LENGTH)
        {
            final long wantW = buffer.getLong();
            final long wantC = buffer.getLong();
            final long floorBytes = buffer.getLong();
            final long heldW = buffer.getLong();
            final long heldC = buffer.getLong();
            if (wantW < 0 || wantC < 0 || floorBytes < 0 || floorBytes > wantW || heldW < floorBytes || heldW > wantW ||
                heldC < 0 || heldC > wantC)
            {
                throw new IllegalArgumentException("not a memory holder snapshot: sizes out of range");
            }
            freeAll();
            wantedWorking = wantW;
            wantedCache = wantC;
            floor = floorBytes;
            grow(working, heldW, true);
            grow(cache, heldC, false);
            return;
        }
        if (magic != OLD_MAGIC || state.length < 8 || buffer.getInt() != state.length - 8)
        {
            throw new IllegalArgumentException("not a memory holder snapshot (" + state.length + " bytes)");
        }
        freeAll(); // the earlier format: the bytes of a working set
        wantedWorking = state.length - 8;
        wantedCache = 0;
        floor = 0;
        grow(working, wantedWorking, true);
        for (final ByteBuffer chunk : working)
        {
            chunk.put(0, state, buffer.position(), chunk.capacity());
            buffer.position(buffer.position() + chunk.capacity());
        }
    }

    @Override
    public String toString()
    {
        return "MemoryHolderGuest{working=" + workingBytes + ", cache=" + cacheBytes + ", floor=" + floor + '}';
    }
}
