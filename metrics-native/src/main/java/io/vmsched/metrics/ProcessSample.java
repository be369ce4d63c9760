package io.vmsched.metrics;

/**
 * What {@link ProcessSampler} read of one OS process: totals since it started.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class ProcessSample
{
    /** The process id. */
    public int pid;
    /** Whether the process was there to read. */
    public boolean alive;
    /** User plus kernel CPU time, ns. */
    public long cpuNanos;
    /** Resident memory, bytes. */
    public long residentBytes;
    /** Bytes it read from storage (Linux: {@code /proc/<pid>/io read_bytes}). */
    public long bytesRead;
    /** Bytes it wrote to storage ({@code write_bytes}: real storage I/O, so writes to /dev/null count nothing). */
    public long bytesWritten;

    @Override
    public String toString()
    {
        return alive ? String.format("pid %d: cpu %,d ms, rss %,d, read %,d, written %,d", pid, cpuNanos / 1_000_000,
            residentBytes, bytesRead, bytesWritten) : "pid " + pid + ": gone";
    }
}
