package io.vmsched.metrics;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.HostRuntime;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Samples the machine and the external VMs' processes through OSHI on its own thread, every period,
 * and publishes every host's live figures to the {@link CountersFile}; an external VM's measured
 * usage is reported to its host, where it feeds the load model (seed VM claims 9-12). A process
 * that has vanished is reported once, its VM removed from the cluster and its counters zeroed; the
 * agent goes on. Never runs on a dispatch thread.
 * <p>
 * Threading: construct, {@link #start()} and {@link #close()} from one thread; the work runs on the
 * agent's own thread ({@code vmsched-metrics}).
 */
public final class MetricsAgent implements Agent, AutoCloseable
{
    /** An external VM: a process bound by PID. */
    public record Binding(long vmId, String name, long pid)
    {
    }

    private static final class Bound
    {
        final Binding binding;
        final ProcessSample sample = new ProcessSample();
        final int cpu;
        final int resident;
        final int read;
        final int write;
        final int alive;
        long lastCpu = -1;
        long lastRead;
        long lastWrite;
        long lastNs;
        boolean gone;

        Bound(final Binding binding, final CountersFile counters, final int host)
        {
            this.binding = binding;
            final String prefix = "vm:" + binding.vmId() + ":" + binding.name() + ":";
            cpu = counters.allocate(prefix + "cpu", CountersFile.TYPE_PPM, host);
            resident = counters.allocate(prefix + "resident", CountersFile.TYPE_BYTES, host);
            read = counters.allocate(prefix + "read", CountersFile.TYPE_BYTES_PER_SECOND, host);
            write = counters.allocate(prefix + "write", CountersFile.TYPE_BYTES_PER_SECOND, host);
            alive = counters.allocate(prefix + "alive", CountersFile.TYPE_COUNT, host);
        }
    }

    private final Cluster cluster;
    private final CountersFile counters;
    private final long periodNs;
    private final Consumer<String> log;
    private final HostSampler hostSampler = new HostSampler();
    private final ProcessSampler processSampler = new ProcessSampler();
    private final HostSample hostSample = new HostSample();
    private final List<Bound> bound = new ArrayList<>();
    private final int[] machine;
    private int[][] hosts; // the agent's thread alone grows it, after the constructor
    private boolean countersFull;
    private AgentRunner runner;
    private long nextNs;

    /**
     * @param cluster  the hosts whose figures to publish.
     * @param counters where to publish them.
     * @param periodMs how often to sample (a second or more: see {@link HostSampler}).
     * @param external external VMs to sample (each must be admitted already, see {@link Cluster#admitExternal}).
     * @param log      told, once, of each process that vanished.
     */
    public MetricsAgent(final Cluster cluster, final CountersFile counters, final long periodMs,
        final List<Binding> external, final Consumer<String> log)
    {
        if (periodMs < 10)
        {
            throw new IllegalArgumentException("metrics period must be at least 10 ms, got " + periodMs);
        }
        this.cluster = cluster;
        this.counters = counters;
        this.periodNs = periodMs * 1_000_000L;
        this.log = log;
        machine = new int[] {
            counters.allocate("cpu", CountersFile.TYPE_PPM, -1),
            counters.allocate("processors", CountersFile.TYPE_COUNT, -1),
            counters.allocate("memoryUsed", CountersFile.TYPE_BYTES, -1),
            counters.allocate("memoryTotal", CountersFile.TYPE_BYTES, -1),
            counters.allocate("diskRead", CountersFile.TYPE_BYTES_PER_SECOND, -1),
            counters.allocate("diskWrite", CountersFile.TYPE_BYTES_PER_SECOND, -1),
            counters.allocate("networkIn", CountersFile.TYPE_BYTES_PER_SECOND, -1),
            counters.allocate("networkOut", CountersFile.TYPE_BYTES_PER_SECOND, -1),
            counters.allocate("loadAverage", CountersFile.TYPE_MILLI, -1) };
        hosts = new int[0][];
        addHosts(cluster.hostCount());
        for (final Binding binding : external)
        {
            final Integer owner = cluster.placement().get(binding.vmId());
            if (owner == null)
            {
                throw new IllegalArgumentException("external vm " + binding.vmId() + " (" + binding.name() +
                    ") is not admitted");
            }
            bound.add(new Bound(binding, counters, owner));
        }
    }

    /** Counters for hosts up to {@code count}; a counters file with no room left is said once, in the log. */
    private void addHosts(final int count)
    {
        final int from = hosts.length;
        final int[][] grown = java.util.Arrays.copyOf(hosts, count);
        for (int h = from; h < count; h++)
        {
            try
            {
                grown[h] = new int[] {
                    counters.allocate("load", CountersFile.TYPE_PPM, h),
                    counters.allocate("vms", CountersFile.TYPE_COUNT, h),
                    counters.allocate("migrationsIn", CountersFile.TYPE_COUNT, h),
                    counters.allocate("migrationsOut", CountersFile.TYPE_COUNT, h),
                    counters.allocate("aborts", CountersFile.TYPE_COUNT, h),
                    counters.allocate("slices", CountersFile.TYPE_COUNT, h),
                    counters.allocate("journalRecords", CountersFile.TYPE_COUNT, h),
                    counters.allocate("decisions", CountersFile.TYPE_COUNT, h) };
            }
            catch (final RuntimeException ex) // Agrona: no room for another counter
            {
                if (from == 0)
                {
                    throw ex; // at the start: the file is too small for the cluster, as before
                }
                countersFull = true;
                log.accept("counters file " + counters.path() + " is full: hosts " + h + "-" + (count - 1) +
                    " are not reported (" + ex.getMessage() + ")");
                hosts = java.util.Arrays.copyOf(grown, h);
                return;
            }
        }
        hosts = grown;
    }

    /**
     * Start sampling on the agent's own thread.
     *
     * @return this.
     */
    public MetricsAgent start()
    {
        runner = new AgentRunner(new SleepingMillisIdleStrategy(5), ex -> log.accept("sampling failed: " + ex), null, this);
        AgentRunner.startOnThread(runner);
        return this;
    }

    @Override
    public int doWork()
    {
        final long now = System.nanoTime();
        if (now - nextNs < 0)
        {
            return 0;
        }
        nextNs = now + periodNs;
        sampleOnce();
        return 1;
    }

    /** Take one sample of everything and publish it. Agent thread (or a test's, before start). */
    public void sampleOnce()
    {
        try
        {
            sampleEverything();
        }
        finally
        {
            counters.heartbeat(); // alive even if a sample failed (the agent's error handler logs it)
        }
    }

    private void sampleEverything()
    {
        final HostSample s = hostSampler.sample(hostSample);
        set(machine[0], (long)(s.cpuUtilisation * 1e6));
        set(machine[1], s.processors);
        set(machine[2], s.memoryUsedBytes);
        set(machine[3], s.memoryTotalBytes);
        set(machine[4], (long)s.diskReadBytesPerSecond);
        set(machine[5], (long)s.diskWriteBytesPerSecond);
        set(machine[6], (long)s.networkInBytesPerSecond);
        set(machine[7], (long)s.networkOutBytesPerSecond);
        set(machine[8], (long)(s.loadAverage * 1000));
        if (cluster.hostCount() > hosts.length && !countersFull)
        {
            addHosts(cluster.hostCount()); // hosts added to the running cluster (Cluster.addHost)
        }
        for (int h = 0; h < hosts.length; h++)
        {
            final HostRuntime host = cluster.host(h);
            final double load = host.load();
            set(hosts[h][0], Double.isNaN(load) ? 0 : (long)(load * 1e6));
            set(hosts[h][1], host.vmCount());
            set(hosts[h][2], host.migrationsIn());
            set(hosts[h][3], host.migrationsOut());
            set(hosts[h][4], host.aborts());
            set(hosts[h][5], host.slicesDispatched());
            set(hosts[h][6], host.journalRecords());
            set(hosts[h][7], host.decisions());
        }
        final long now = System.nanoTime();
        for (final Bound b : bound)
        {
            if (b.gone)
            {
                continue;
            }
            if (!processSampler.sample((int)b.binding.pid(), b.sample))
            {
                b.gone = true;
                set(b.alive, 0);
                set(b.cpu, 0);
                set(b.resident, 0);
                set(b.read, 0);
                set(b.write, 0);
                log.accept("vm " + b.binding.vmId() + " (" + b.binding.name() + ", pid " + b.binding.pid() +
                    "): the process is gone; the VM is removed from the cluster");
                try
                {
                    cluster.remove(b.binding.vmId());
                }
                catch (final RuntimeException ex)
                {
                    log.accept("vm " + b.binding.vmId() + ": " + ex.getMessage());
                }
                continue;
            }
            set(b.alive, 1);
            set(b.resident, b.sample.residentBytes);
            if (b.lastCpu >= 0)
            {
                final double seconds = Math.max(1e-6, (now - b.lastNs) / 1e9);
                final double cores = Math.max(0, b.sample.cpuNanos - b.lastCpu) / 1e9 / seconds;
                final double readRate = Math.max(0, b.sample.bytesRead - b.lastRead) / seconds;
                final double writeRate = Math.max(0, b.sample.bytesWritten - b.lastWrite) / seconds;
                set(b.cpu, (long)(cores * 1e6));
                set(b.read, (long)readRate);
                set(b.write, (long)writeRate);
                try
                {
                    cluster.reportUsage(b.binding.vmId(), cores, readRate + writeRate, b.sample.residentBytes);
                }
                catch (final RuntimeException ex)
                {
                    log.accept("vm " + b.binding.vmId() + ": usage not reported: " + ex.getMessage());
                }
            }
            b.lastCpu = b.sample.cpuNanos;
            b.lastRead = b.sample.bytesRead;
            b.lastWrite = b.sample.bytesWritten;
            b.lastNs = now;
        }
    }

    private void set(final int id, final long value)
    {
        counters.set(id, value);
    }

    @Override
    public String roleName()
    {
        return "vmsched-metrics";
    }

    /** Stop sampling (the counters file stays open: its owner closes it). */
    @Override
    public void close()
    {
        if (runner != null)
        {
            runner.close();
        }
    }
}
