package io.vmsched.load;

/**
 * What a host can give (seed VM claims 8, 20, 31): cores and their relative speed, I/O bandwidth
 * and memory. The same VM is a smaller load on a faster or larger host.
 * <p>
 * Immutable and threadsafe.
 */
public final class HostCapacity
{
    private final double cores;
    private final double coreSpeed;
    private final double ioBytesPerSecond;
    private final double memoryBytes;

    /**
     * @param cores            number of cores, above 0.
     * @param coreSpeed        speed of one core relative to the reference core that measured usage, above 0.
     * @param ioBytesPerSecond I/O bandwidth, above 0.
     * @param memoryBytes      memory, above 0.
     */
    public HostCapacity(final double cores, final double coreSpeed, final double ioBytesPerSecond,
        final double memoryBytes)
    {
        if (!(cores > 0) || !(coreSpeed > 0) || !(ioBytesPerSecond > 0) || !(memoryBytes > 0) ||
            Double.isInfinite(cores * coreSpeed + ioBytesPerSecond + memoryBytes))
        {
            throw new IllegalArgumentException("host capacity must be finite and above 0: cores=" + cores +
                " speed=" + coreSpeed + " io=" + ioBytesPerSecond + " B/s memory=" + memoryBytes + " B");
        }
        this.cores = cores;
        this.coreSpeed = coreSpeed;
        this.ioBytesPerSecond = ioBytesPerSecond;
        this.memoryBytes = memoryBytes;
    }

    /** @return cores. */
    public double cores()
    {
        return cores;
    }

    /** @return relative core speed. */
    public double coreSpeed()
    {
        return coreSpeed;
    }

    /** @return reference-core seconds of CPU per second the host can give: cores x speed. */
    public double cpuCapacity()
    {
        return cores * coreSpeed;
    }

    /** @return I/O bandwidth in bytes per second. */
    public double ioBytesPerSecond()
    {
        return ioBytesPerSecond;
    }

    /** @return memory in bytes. */
    public double memoryBytes()
    {
        return memoryBytes;
    }

    @Override
    public String toString()
    {
        return cores + " cores x " + coreSpeed + ", " + ioBytesPerSecond + " B/s, " + memoryBytes + " B";
    }
}
