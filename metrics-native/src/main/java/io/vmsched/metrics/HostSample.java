package io.vmsched.metrics;

/**
 * One sample of the machine's figures, as {@link HostSampler} measured them. Rates are over the time
 * since the sampler's previous sample.
 * <p>
 * <b>Note:</b> Not threadsafe: filled by one sampler, read after.
 */
public final class HostSample
{
    /** Share of all CPUs busy, in [0, 1], from the OS's tick counters. */
    public double cpuUtilisation;
    /** Logical processors. */
    public int processors;
    /** Memory in use (total less available), bytes. */
    public long memoryUsedBytes;
    /** Physical memory, bytes. */
    public long memoryTotalBytes;
    /** Bytes read from every disk, per second. */
    public double diskReadBytesPerSecond;
    /** Bytes written to every disk, per second. */
    public double diskWriteBytesPerSecond;
    /** Bytes received on every network interface, per second. */
    public double networkInBytesPerSecond;
    /** Bytes sent on every network interface, per second. */
    public double networkOutBytesPerSecond;
    /** One-minute load average (negative where the OS has none). */
    public double loadAverage;
    /** When it was taken, ns since the epoch. */
    public long timestampNs;

    @Override
    public String toString()
    {
        return String.format("cpu %.1f%% of %d, memory %,d / %,d, disk r %.0f w %.0f B/s, net in %.0f out %.0f B/s, load %.2f",
            100 * cpuUtilisation, processors, memoryUsedBytes, memoryTotalBytes, diskReadBytesPerSecond,
            diskWriteBytesPerSecond, networkInBytesPerSecond, networkOutBytesPerSecond, loadAverage);
    }
}
