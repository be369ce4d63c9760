package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test guest that catches a VM running in two places: every instance of one VM (the source's and
 * the target's copies) shares a counter of slices in progress, which must never exceed one. Its
 * state is its VM id and its slice count, so a restored copy carries on counting.
 */
public final class TrackingGuest implements Guest
{
    static final Map<Long, AtomicInteger> RUNNING = new ConcurrentHashMap<>();
    static final Map<Long, AtomicLong> SLICES = new ConcurrentHashMap<>();
    static final AtomicLong OVERLAPS = new AtomicLong();

    private long vmId = -1;
    private long slices;

    /** For the registry: restored before it runs. */
    public TrackingGuest()
    {
    }

    TrackingGuest(final long vmId)
    {
        this.vmId = vmId;
    }

    static void reset()
    {
        RUNNING.clear();
        SLICES.clear();
        OVERLAPS.set(0);
    }

    static long slices(final long vmId)
    {
        final AtomicLong count = SLICES.get(vmId);
        return count == null ? 0 : count.get();
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        final AtomicInteger running = RUNNING.computeIfAbsent(vmId, id -> new AtomicInteger());
        if (running.incrementAndGet() > 1)
        {
            OVERLAPS.incrementAndGet();
        }
        slices++;
        SLICES.computeIfAbsent(vmId, id -> new AtomicLong()).incrementAndGet();
        final long until = System.nanoTime() + 20_000;
        while (System.nanoTime() - until < 0)
        {
            Thread.onSpinWait();
        }
        running.decrementAndGet();
        context.idle(); // light: let the worker back off between slices
    }

    @Override
    public byte[] snapshot()
    {
        return ByteBuffer.allocate(16).putLong(vmId).putLong(slices).array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        vmId = buffer.getLong();
        slices = buffer.getLong();
    }
}
