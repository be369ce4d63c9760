package io.vmsched.load;

/**
 * A VM's raw usage, independent of any host (seed VM claims 8, 20, 31): what a source host sends a
 * peer so that the peer can compute the VM's load on itself.
 * <p>
 * <b>Note:</b> Not threadsafe: a mutable holder, reused to avoid allocation.
 */
public final class LoadFactors
{
    /** Reference-core seconds of CPU per second (1.0 = one reference core busy). */
    public double cpuCores;
    /** I/O bytes per second (disk and network). */
    public double ioBytesPerSecond;
    /** Memory occupied, bytes. */
    public double memoryBytes;

    /** An all-zero usage. */
    public LoadFactors()
    {
    }

    /**
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory occupied.
     */
    public LoadFactors(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        set(cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /**
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory occupied.
     * @return this.
     */
    public LoadFactors set(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        this.cpuCores = cpuCores;
        this.ioBytesPerSecond = ioBytesPerSecond;
        this.memoryBytes = memoryBytes;
        return this;
    }

    @Override
    public String toString()
    {
        return String.format("cpu=%.3f cores io=%.0f B/s mem=%.0f B", cpuCores, ioBytesPerSecond, memoryBytes);
    }
}
