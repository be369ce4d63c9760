package io.vmsched.metrics;

import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;
import oshi.hardware.GlobalMemory;
import oshi.hardware.HWDiskStore;
import oshi.hardware.HardwareAbstractionLayer;
import oshi.hardware.NetworkIF;

import java.util.List;

/**
 * Measures the machine through OSHI: CPU utilisation from the tick counters between two samples,
 * memory, disk and network byte rates, the load average. Creating one costs a few hundred ms (OSHI
 * reads the hardware once); a sample costs what {@code SamplerBenchmark} reports. Run it on its own
 * agent (a {@link MetricsAgent}), never on a dispatch thread, every second or more: OSHI caches its
 * tick counters for a moment, so samples much closer together read no CPU time in between.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class HostSampler
{
    private final CentralProcessor processor;
    private final GlobalMemory memory;
    private final List<HWDiskStore> disks;
    private final List<NetworkIF> networks;
    private long[] ticks;
    private long lastNs;
    private long lastRead;
    private long lastWrite;
    private long lastIn;
    private long lastOut;
    private long read;
    private long write;
    private long in;
    private long out;

    /** Read the hardware (once) and take the first reading of every counter. */
    public HostSampler()
    {
        final HardwareAbstractionLayer hardware = new SystemInfo().getHardware();
        processor = hardware.getProcessor();
        memory = hardware.getMemory();
        disks = hardware.getDiskStores();
        networks = hardware.getNetworkIFs();
        ticks = processor.getSystemCpuLoadTicks();
        lastNs = System.nanoTime();
        readIo();
        lastRead = read;
        lastWrite = write;
        lastIn = in;
        lastOut = out;
    }

    private void readIo()
    {
        read = 0;
        write = 0;
        for (final HWDiskStore disk : disks)
        {
            disk.updateAttributes();
            read += disk.getReadBytes();
            write += disk.getWriteBytes();
        }
        in = 0;
        out = 0;
        for (final NetworkIF network : networks)
        {
            network.updateAttributes();
            in += network.getBytesRecv();
            out += network.getBytesSent();
        }
    }

    /**
     * Take a sample.
     *
     * @param into filled with the figures.
     * @return {@code into}.
     */
    public HostSample sample(final HostSample into)
    {
        final long now = System.nanoTime();
        final double seconds = Math.max(1e-6, (now - lastNs) / 1e9);
        into.cpuUtilisation = Math.max(0, Math.min(1, processor.getSystemCpuLoadBetweenTicks(ticks)));
        ticks = processor.getSystemCpuLoadTicks();
        into.processors = processor.getLogicalProcessorCount();
        into.memoryTotalBytes = memory.getTotal();
        into.memoryUsedBytes = into.memoryTotalBytes - memory.getAvailable();
        readIo();
        into.diskReadBytesPerSecond = Math.max(0, read - lastRead) / seconds;
        into.diskWriteBytesPerSecond = Math.max(0, write - lastWrite) / seconds;
        into.networkInBytesPerSecond = Math.max(0, in - lastIn) / seconds;
        into.networkOutBytesPerSecond = Math.max(0, out - lastOut) / seconds;
        into.loadAverage = processor.getSystemLoadAverage(1)[0];
        into.timestampNs = System.currentTimeMillis() * 1_000_000L;
        lastRead = read;
        lastWrite = write;
        lastIn = in;
        lastOut = out;
        lastNs = now;
        return into;
    }
}
