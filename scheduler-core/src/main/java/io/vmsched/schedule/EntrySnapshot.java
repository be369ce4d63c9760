package io.vmsched.schedule;

/**
 * A consistent copy of one slot, filled by {@link ScheduleReader#read(int, EntrySnapshot)}.
 * <p>
 * <b>Note:</b> Not threadsafe: a mutable holder, reused to avoid allocation.
 */
public final class EntrySnapshot
{
    int slot;
    int state;
    int generation;
    long vmId;
    int weight;
    long cpuNanos;
    long slices;
    long ioBytes;
    long memBytes;

    /** @return the slot index. */
    public int slot()
    {
        return slot;
    }

    /** @return the state, see {@link EntryState}. */
    public int state()
    {
        return state;
    }

    /** @return the slot's generation when read. */
    public int generation()
    {
        return generation;
    }

    /** @return the VM's id. */
    public long vmId()
    {
        return vmId;
    }

    /** @return the entry's weight. */
    public int weight()
    {
        return weight;
    }

    /** @return CPU nanoseconds used on this host. */
    public long cpuNanos()
    {
        return cpuNanos;
    }

    /** @return slices run on this host. */
    public long slices()
    {
        return slices;
    }

    /** @return I/O bytes reported on this host. */
    public long ioBytes()
    {
        return ioBytes;
    }

    /** @return memory bytes last reported. */
    public long memBytes()
    {
        return memBytes;
    }

    @Override
    public String toString()
    {
        return "slot=" + slot + " vm=" + vmId + " state=" + EntryState.name(state) + " weight=" + weight +
            " cpuNanos=" + cpuNanos + " slices=" + slices + " ioBytes=" + ioBytes + " memBytes=" + memBytes;
    }
}
