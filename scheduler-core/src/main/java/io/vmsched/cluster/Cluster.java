package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.Journal;
import io.vmsched.sim.Simulator;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An embedded cluster: N {@link HostRuntime}s in this JVM joined by an {@link InJvmTransport}, each
 * journaling to its own directory under the data directory. Starting on a data directory that
 * already holds journals recovers from them: every host rebuilds its schedule, and a migration a
 * crash cut short is resolved by its commit point.
 * <p>
 * Threading: {@link #start}, {@link #close} and the requests ({@link #admit}, {@link #remove},
 * {@link #migrate}, {@link #programLoad}) may be called from any thread; requests are queued to the
 * host agents and take effect asynchronously (watch {@link #placement()} or a
 * {@link ClusterListener}). Getters are racy snapshots.
 */
public final class Cluster implements AutoCloseable
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final ClusterConfig config;
    private final ClusterView view;
    private final InJvmTransport transport;
    private final HostRuntime[] hosts;
    private final int recovered;
    private volatile boolean closed;

    private Cluster(final ClusterConfig config)
    {
        config.validate();
        this.config = config;
        this.view = new ClusterView(config.hosts, config.host.capacity(), config.listener);
        this.transport = new InJvmTransport(config.hosts);
        this.hosts = new HostRuntime[config.hosts];
        final Journal[] journals = new Journal[config.hosts];
        checkNoOtherHosts(config);
        try
        {
            final JournalState[] states = new JournalState[config.hosts];
            for (int h = 0; h < config.hosts; h++)
            {
                journals[h] = ChronicleJournal.open(config.journalDir(h), h);
                states[h] = JournalState.replay(journals[h]); // once: recovery below uses the same state
            }
            final CommitPoint commitPoint = (target, migrationId) ->
                target >= 0 && target < states.length && states[target].activatedHere().contains(migrationId);
            int owned = 0;
            for (int h = 0; h < config.hosts; h++)
            {
                hosts[h] = new HostRuntime(h, config.host, view, transport, journals[h], config.guests, config.faults);
                owned += hosts[h].recover(states[h], commitPoint);
                transport.attach(h, hosts[h].inbox());
            }
            this.recovered = owned;
        }
        catch (final RuntimeException ex)
        {
            for (int h = 0; h < config.hosts; h++)
            {
                if (hosts[h] != null)
                {
                    hosts[h].close();
                }
                else if (journals[h] != null)
                {
                    journals[h].close();
                }
            }
            throw ex;
        }
    }

    /**
     * Build the hosts, recover whatever their journals hold, and start them.
     *
     * @param config the cluster's settings.
     * @return the running cluster.
     * @throws IllegalArgumentException if a setting is bad.
     * @throws io.vmsched.journal.JournalCorruptException if a journal has a record that cannot be decoded.
     */
    public static Cluster start(final ClusterConfig config)
    {
        final Cluster cluster = new Cluster(config);
        try
        {
            for (final HostRuntime host : cluster.hosts)
            {
                host.start();
            }
        }
        catch (final RuntimeException ex)
        {
            cluster.close();
            throw ex;
        }
        return cluster;
    }

    /** @return VMs the hosts owned after recovering their journals at start (0 on a fresh directory). */
    public int recoveredVms()
    {
        return recovered;
    }

    /** @return number of hosts. */
    public int hostCount()
    {
        return hosts.length;
    }

    /**
     * @param id a host id.
     * @return that host.
     */
    public HostRuntime host(final int id)
    {
        return hosts[id];
    }

    /**
     * Admit a VM on the least loaded host.
     *
     * @see #admit(int, long, int, Guest)
     * @return the host chosen.
     */
    public int admit(final long vmId, final int weight, final Guest guest)
    {
        int best = 0;
        for (int h = 1; h < hosts.length; h++)
        {
            if (load(h) < load(best) || load(h) == load(best) && hosts[h].vmCount() < hosts[best].vmCount())
            {
                best = h;
            }
        }
        admit(best, vmId, weight, guest);
        return best;
    }

    /**
     * Admit a VM on a host. The guest's kind and snapshot are journaled (ADMITTED) and the host runs a
     * guest made from them by the {@link GuestRegistry}.
     *
     * @param host   the host.
     * @param vmId   the VM's id, unique in the cluster.
     * @param weight its share on the host's dispatcher.
     * @param guest  the workload.
     * @throws IllegalArgumentException if the id is already admitted or the host does not exist.
     * @throws IllegalStateException    if the host's inbox is full.
     */
    public void admit(final int host, final long vmId, final int weight, final Guest guest)
    {
        checkHost(host);
        if (weight < 1 || weight > io.vmsched.schedule.Schedule.MAX_WEIGHT)
        {
            throw new IllegalArgumentException("vm " + vmId + ": weight must be in [1, " +
                io.vmsched.schedule.Schedule.MAX_WEIGHT + "], got " + weight);
        }
        final byte[] kind = guest.kind().getBytes(StandardCharsets.UTF_8);
        final byte[] state = guest.snapshot();
        final int maxMessage = hosts[host].inbox().maxMsgLength();
        if (kind.length > 0xFFFF)
        {
            throw new IllegalArgumentException("vm " + vmId + ": guest kind name longer than 65535 bytes");
        }
        if (HostRuntime.TRANSFER_HEADER + kind.length + state.length > maxMessage) // it must be able to migrate, not only arrive
        {
            throw new IllegalArgumentException("vm " + vmId + ": its state of " + state.length + " bytes does not fit a " +
                "message to host " + host + " (at most " + maxMessage + " bytes; raise HostConfig.inboxBytes)");
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostRuntime.ADMIT_HEADER + kind.length + state.length]);
        buffer.putLong(0, vmId, ORDER);
        buffer.putInt(8, weight, ORDER);
        buffer.putShort(12, (short)kind.length, ORDER);
        buffer.putBytes(HostRuntime.ADMIT_HEADER, kind);
        buffer.putBytes(HostRuntime.ADMIT_HEADER + kind.length, state);
        final Integer owner = view.owners.putIfAbsent(vmId, host); // reserves the id; the agent frees it if it refuses
        if (owner != null)
        {
            throw new IllegalArgumentException("vm " + vmId + " is already admitted (host " + owner + ")");
        }
        if (!hosts[host].offer(HostRuntime.MSG_ADMIT, buffer, 0, buffer.capacity()))
        {
            view.owners.remove(vmId, host);
            throw new IllegalStateException("host " + host + ": inbox full, vm " + vmId + " not admitted");
        }
    }

    /**
     * Admit an external VM: an OS process (a hypervisor's VM process, say) bound by its PID. Its entry
     * is never dispatched; its load comes from {@link #reportUsage} (a metrics agent samples the
     * process), and it is not migrated (no driver moves a process yet). Journaled like any admission.
     *
     * @param host the host it runs on.
     * @param vmId the VM's id.
     * @param name a name for reports.
     * @param pid  the process id.
     */
    public void admitExternal(final int host, final long vmId, final String name, final long pid)
    {
        admit(host, vmId, 1, new ExternalVm(name, pid));
    }

    /**
     * Report an external VM's measured usage; its host folds it into its load at the next sample.
     *
     * @param vmId             the VM.
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond storage I/O rate.
     * @param memoryBytes      resident memory.
     */
    public void reportUsage(final long vmId, final double cpuCores, final double ioBytesPerSecond,
        final double memoryBytes)
    {
        sendUsage(HostRuntime.MSG_USAGE, vmId, cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /** The journaled identity of an external VM: its name and PID. */
    static final class ExternalVm implements Guest
    {
        private final byte[] state;

        ExternalVm(final String name, final long pid)
        {
            final byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            state = java.nio.ByteBuffer.allocate(8 + utf8.length).putLong(pid).put(utf8).array();
        }

        @Override
        public void runSlice(final io.vmsched.dispatch.SliceContext context)
        {
            throw new IllegalStateException("an external VM is never dispatched");
        }

        @Override
        public byte[] snapshot()
        {
            return state;
        }

        @Override
        public void restore(final byte[] state)
        {
            throw new UnsupportedOperationException("an external VM is not restored");
        }

        @Override
        public String kind()
        {
            return HostRuntime.EXTERNAL_KIND;
        }
    }

    /**
     * Remove a VM from the cluster (journaled REMOVED at its host). If it is migrating, it is removed
     * where the migration leaves it (until then the request is held in memory only: a crash before
     * forgets it). A failure at the host is reported to {@link ClusterListener#onError}.
     *
     * @param vmId the VM.
     * @throws IllegalArgumentException if it is not in the cluster.
     */
    public void remove(final long vmId)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
        buffer.putLong(0, vmId, ORDER);
        offer(ownerOf(vmId), HostRuntime.MSG_REMOVE, buffer);
    }

    /**
     * Ask a VM's host to migrate it to another host now (outside the balancer).
     *
     * @param vmId   the VM.
     * @param target the host to move it to.
     */
    public void migrate(final long vmId, final int target)
    {
        checkHost(target);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[12]);
        buffer.putLong(0, vmId, ORDER);
        buffer.putInt(8, target, ORDER);
        offer(ownerOf(vmId), HostRuntime.MSG_MIGRATE, buffer);
    }

    /**
     * Program a VM's target load (seed VM claims 6, 7): the balancer uses this usage instead of the
     * measured one until {@link #clearProgrammedLoad(long)}.
     *
     * @param vmId             the VM.
     * @param cpuCores         reference cores.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory.
     */
    public void programLoad(final long vmId, final double cpuCores, final double ioBytesPerSecond,
        final double memoryBytes)
    {
        if (!(cpuCores >= 0 && ioBytesPerSecond >= 0 && memoryBytes >= 0))
        {
            throw new IllegalArgumentException("programmed usage must be non-negative");
        }
        sendUsage(HostRuntime.MSG_PROGRAM, vmId, cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /**
     * Back to the measured load for a VM.
     *
     * @param vmId the VM.
     */
    public void clearProgrammedLoad(final long vmId)
    {
        sendUsage(HostRuntime.MSG_PROGRAM, vmId, Double.NaN, 0, 0); // NaN: back to the measured load
    }

    /**
     * Turn every host's balancer on or off.
     *
     * @param on whether hosts exchange with peers.
     */
    public void balancing(final boolean on)
    {
        for (final HostRuntime host : hosts)
        {
            host.balancing(on);
        }
    }

    /**
     * @param host a host.
     * @return its last published load (NaN if it is down).
     */
    public double load(final int host)
    {
        return view.load(host);
    }

    /** @return every host's last published load. */
    public double[] loads()
    {
        final double[] loads = new double[hosts.length];
        for (int h = 0; h < hosts.length; h++)
        {
            loads[h] = view.load(h);
        }
        return loads;
    }

    /** @return coefficient of variation of the hosts' loads. */
    public double cv()
    {
        return Simulator.cv(loads());
    }

    /** @return which host owns each VM (from ACTIVATED on, a migrated VM belongs to its target). */
    public Map<Long, Integer> placement()
    {
        return new TreeMap<>(view.owners);
    }

    /** @return migrations committed in this run. */
    public long migrationsCommitted()
    {
        return view.committed.get();
    }

    /** @return migrations aborted in this run (counted at the source). */
    public long migrationsAborted()
    {
        return view.aborted.get();
    }

    /** @return migrations in flight (sources that have not learned the outcome yet). */
    public int migrationsInFlight()
    {
        int total = 0;
        for (final HostRuntime host : hosts)
        {
            total += host.outgoingCount();
        }
        return total;
    }

    /** @return where the journals are. */
    public List<java.nio.file.Path> journalDirs()
    {
        final List<java.nio.file.Path> dirs = new ArrayList<>();
        for (int h = 0; h < hosts.length; h++)
        {
            dirs.add(config.journalDir(h));
        }
        return dirs;
    }

    /**
     * Stop balancing, let migrations in flight finish (up to a few handoff timeouts; one still in
     * flight then stays in the journal for recovery to resolve), then stop every thread and close
     * every journal. Idempotent.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        balancing(false);
        final long deadline = System.nanoTime() + 4 * config.host.handoffTimeoutNs;
        while (migrationsInFlight() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        for (final HostRuntime host : hosts)
        {
            transport.detach(host.hostId());
        }
        for (final HostRuntime host : hosts)
        {
            host.close();
        }
        transport.close();
    }

    private static void checkNoOtherHosts(final ClusterConfig config)
    {
        final java.nio.file.Path journals = config.dataDir.resolve("journal");
        if (!java.nio.file.Files.isDirectory(journals))
        {
            return;
        }
        try (java.util.stream.Stream<java.nio.file.Path> dirs = java.nio.file.Files.list(journals))
        {
            dirs.map(d -> d.getFileName().toString()).filter(name -> name.matches("\\d+"))
                .mapToLong(Long::parseLong).filter(id -> id >= config.hosts).min().ifPresent(id ->
                {
                    throw new IllegalArgumentException(journals + " holds the journal of host " + id + ", but the " +
                        "cluster is started with " + config.hosts + " hosts: its VMs would be lost; start it with all its hosts");
                });
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("cannot list " + journals + ": " + ex.getMessage(), ex);
        }
    }

    private void sendUsage(final int type, final long vmId, final double cpu, final double io, final double memory)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[32]);
        buffer.putLong(0, vmId, ORDER);
        buffer.putDouble(8, cpu, ORDER);
        buffer.putDouble(16, io, ORDER);
        buffer.putDouble(24, memory, ORDER);
        offer(ownerOf(vmId), type, buffer);
    }

    private int ownerOf(final long vmId)
    {
        final Integer owner = view.owners.get(vmId);
        if (owner == null)
        {
            throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
        }
        return owner;
    }

    private void offer(final int host, final int type, final UnsafeBuffer buffer)
    {
        if (!hosts[host].offer(type, buffer, 0, buffer.capacity()))
        {
            throw new IllegalStateException("host " + host + ": inbox full");
        }
    }

    private void checkHost(final int host)
    {
        if (host < 0 || host >= hosts.length)
        {
            throw new IllegalArgumentException("no host " + host + " (hosts 0-" + (hosts.length - 1) + ")");
        }
    }
}
