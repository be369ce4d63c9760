package io.vmsched.dispatch;

/**
 * What a guest is told about its slice, and where it reports what it used.
 * <p>
 * <b>Note:</b> Not threadsafe: one per worker, reset for every slice, valid only inside
 * {@link Guest#runSlice(SliceContext)}.
 */
public final class SliceContext
{
    private long vmId;
    private long budgetNanos;
    private long shareNanos;
    private long deadlineNanos;
    private long ioBytes;
    private long memBytes;
    private boolean idle;

    void reset(final long vmId, final long budgetNanos, final long shareNanos, final long startNanos,
        final long memBytes)
    {
        this.vmId = vmId;
        this.budgetNanos = budgetNanos;
        this.shareNanos = shareNanos;
        this.deadlineNanos = startNanos + budgetNanos;
        this.ioBytes = 0;
        this.memBytes = memBytes;
        this.idle = false;
    }

    /** @return the id of the VM being run. */
    public long vmId()
    {
        return vmId;
    }

    /** @return CPU nanoseconds the slice may use. */
    public long budgetNanos()
    {
        return budgetNanos;
    }

    /**
     * @return the entry's fair share of one turn: weight x quantum. The budget can be larger (credit
     * carried from slices that used less, or owed for turns missed while the entry ran) or smaller
     * (an overrun being paid back).
     */
    public long shareNanos()
    {
        return shareNanos;
    }

    /** @return the {@link System#nanoTime()} at which the slice's budget runs out. */
    public long deadlineNanos()
    {
        return deadlineNanos;
    }

    /**
     * Has the slice's budget run out?
     *
     * @return true once {@link System#nanoTime()} has passed the deadline.
     */
    public boolean expired()
    {
        return System.nanoTime() - deadlineNanos >= 0;
    }

    /**
     * Report I/O done in this slice; adds up over the slice.
     *
     * @param bytes bytes read or written.
     */
    public void reportIo(final long bytes)
    {
        ioBytes += bytes;
    }

    /**
     * Report the memory the guest holds now; the last report of a slice counts.
     *
     * @param bytes memory held.
     */
    public void reportMemory(final long bytes)
    {
        memBytes = bytes;
    }

    /**
     * Say that the guest had nothing to do in this slice (a paced workload ahead of its rate, say): a
     * worker whose every guest is idle backs off instead of spinning through the ring.
     */
    public void idle()
    {
        idle = true;
    }

    boolean wasIdle()
    {
        return idle;
    }

    long ioBytes()
    {
        return ioBytes;
    }

    long memBytes()
    {
        return memBytes;
    }
}
