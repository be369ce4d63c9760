package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.node.Node;
import io.vmsched.aeron.registry.RegistryException;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostConfig;
import io.vmsched.guest.IdleGuest;
import io.vmsched.guest.PacedBurnerGuest;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code vmsched node --registry …}: this machine's node of a cluster across machines, until SIGINT or
 * SIGTERM. Its guests get ids {@code (host id + 1) × 10^9 + i}, so nodes never pick the same.
 */
final class ClusterNode
{
    /** Guest ids of host {@code h} start at {@code (h + 1) × GUEST_IDS}. */
    static final long GUEST_IDS = 1_000_000_000L;
    /** QEMU VMs' ids ({@code --qemu}) of host {@code h} start at {@code (h + 1) × GUEST_IDS + QEMU_IDS}. */
    static final long QEMU_IDS = 500_000_000L;

    private final NodeCommand command;

    ClusterNode(final NodeCommand command)
    {
        this.command = command;
    }

    void run()
    {
        final NodeCommand c = command;
        Flags.within("--guests", c.guests, 0, 100_000);
        Flags.within("--workers", c.workers, 1, 256);
        Flags.within("--worker-nice", c.workerNice, 0, 19);
        Flags.within("--max-nodes", c.maxNodes, 2, 65_536);
        Flags.within("--registry-wait-s", c.registryWaitS, 1, 3_600);
        Flags.within("--balance-period-ms", c.balancePeriodMs, 50, 3_600_000);
        if (!(c.guestLoad >= 0 && c.guestLoad <= 1024))
        {
            throw new IllegalArgumentException("--guest-load must be in [0, 1024] reference cores, got " + c.guestLoad);
        }
        if (!(c.qemuLoad >= 0 && c.qemuLoad <= 1024))
        {
            throw new IllegalArgumentException("--qemu-load must be in [0, 1024] reference cores, got " + c.qemuLoad);
        }
        if (!(c.guestSwing >= 0 && c.guestSwing < 1))
        {
            throw new IllegalArgumentException("--guest-swing must be in [0, 1), got " + c.guestSwing);
        }
        Flags.within("--swing-period-ms", c.swingPeriodMs, 100, 3_600_000);
        if (c.name == null || c.bind == null || c.secret == null)
        {
            throw new IllegalArgumentException("--registry needs --name, --bind and --secret");
        }
        if (!c.vmPids.isEmpty())
        {
            throw new IllegalArgumentException("--vm-pid is not supported with --registry yet: external VMs run on a single-host node");
        }
        final byte[] key = ClusterSecret.read(c.secret);
        final Path data = c.dataDir.checked();
        // checked before the registry hears of this node
        final java.util.Set<Integer> adoptedBefore = qemuAdoptedBefore(data);
        final java.util.List<QemuVm> qemuVms = QemuVm.parse(c.qemus, 0, data.resolve(NodeCommand.QEMU_RUN_DIR),
            adoptedBefore::contains);
        final Metrics endpoint = c.metricsEndpoint.start(); // before the registry hears of this node: a taken port changes nothing
        final PrintWriter out = c.spec.commandLine().getOut();
        final java.util.concurrent.atomic.AtomicInteger settled = new java.util.concurrent.atomic.AtomicInteger();
        final HostConfig host = Node.Context.defaultHost();
        host.workers = c.workers;
        host.workerNice = c.workerNice;
        host.balancePeriodNs = c.balancePeriodMs * 1_000_000L;
        // incoming copies listen where peers reach this node (its --bind host), never on all interfaces
        final String bindHost = c.bind.substring(0, c.bind.lastIndexOf(':')).replace("[", "").replace("]", "");
        host.vmDriver = h -> new io.vmsched.qemu.QemuVmDriver(data.resolve(NodeCommand.QEMU_RUN_DIR), bindHost,
            io.vmsched.qemu.QmpClient.DEFAULT_TIMEOUT, io.vmsched.qemu.QemuVmDriver.DEFAULT_START_TIMEOUT,
            io.vmsched.qemu.QemuVmDriver.DEFAULT_QUIT_TIMEOUT); // with spare incoming copies, as embedded
        final Node.Context context = new Node.Context().name(c.name).bind(c.bind).registry(c.registry).secret(key)
            .dataDir(data).labels(c.labels).maxHosts(c.maxNodes).host(host)
            .connectTimeoutMs(Math.min(5_000, c.registryWaitS * 1_000L)) // each try (1 s was too short for 20 nodes on 2 cores)
            .log(line -> System.err.println("vmsched node " + c.name + ": " + line))
            .listener(listener(endpoint, new ClusterListener()
            {
                @Override
                public void onAdmitted(final int h, final long vmId)
                {
                    settled.incrementAndGet();
                }

                @Override
                public void onRequestFailed(final int h, final io.vmsched.cluster.Request request, final long vmId,
                    final String reason)
                {
                    if (request == io.vmsched.cluster.Request.PROGRAM_LOAD)
                    {
                        return; // the swing's: the VM left meanwhile, its new node swings it
                    }
                    settled.incrementAndGet(); // admissions are the only other requests this command makes
                    System.err.println("vmsched node " + c.name + ": " + request + " of vm " + vmId + " failed: " + reason);
                }

                @Override
                public void onLiveMigration(final long vmId, final int source, final int target,
                    final io.vmsched.vm.MigrationStatus status)
                {
                    // few (QEMU VMs only), and what an operator of real VMs looks for in the log
                    System.err.printf(java.util.Locale.ROOT, "vmsched node %s: vm %d live-migrated to host %d " +
                        "(QEMU's total %d ms, downtime %d ms, %d bytes)%n", c.name, vmId, target, status.totalTimeMs(),
                        status.downtimeMs(), status.transferredBytes());
                }

                @Override
                public void onAborted(final long vmId, final int source, final int target,
                    final io.vmsched.journal.AbortReason code, final String reason)
                {
                    // a few a second at most (one balance turn a period): why a VM did not move is an operator's question
                    System.err.println("vmsched node " + c.name + ": vm " + vmId + " from host " + source + " to host " +
                        target + " aborted: " + reason);
                }

                @Override
                public void onError(final int h, final Throwable error)
                {
                    System.err.println("vmsched node " + c.name + ": " + error.getMessage());
                }
            }));
        final Node node;
        try
        {
            node = connect(context, c.registryWaitS, c.name);
        }
        catch (final RuntimeException ex)
        {
            if (endpoint != null)
            {
                endpoint.close();
            }
            throw ex;
        }
        final Cluster cluster = node.cluster();
        final int hostId = node.hostId();
        try
        {
            if (endpoint != null)
            {
                endpoint.watch(cluster, hostId);
            }
            final Map<Long, Integer> placement = cluster.placement();
            final long base = (hostId + 1) * GUEST_IDS;
            int admitted = 0;
            for (int i = 1; i <= c.guests; i++)
            {
                final long vmId = base + i;
                if (!placement.containsKey(vmId) && cluster.recoveredVms() == 0)
                {
                    cluster.admit(hostId, vmId, 1, c.guestLoad > 0 ? new IdleGuest() : new PacedBurnerGuest(0.02, 0.5, 10_000, i));
                    if (c.guestLoad > 0)
                    {
                        cluster.programLoad(vmId, c.guestLoad, 0, 0);
                    }
                    admitted++;
                }
            }
            for (final QemuVm vm : qemuVms)
            {
                final long vmId = base + QEMU_IDS + vm.vmId();
                if (vm.pid() == QemuVm.UNCHECKED && !placement.containsKey(vmId))
                {
                    // adopted at an earlier start and gone since: it left by live migration (or was removed); its
                    // owner, if any, is another node's, and adopting its old process again would run it twice
                    System.err.println("vmsched node " + c.name + ": --qemu vm " + vm.name() + " (" + vmId + ") was " +
                        "adopted here before and is no longer this node's: not adopted again");
                }
                else if (!placement.containsKey(vmId)) // one the journal holds was adopted again by recovery
                {
                    cluster.adoptVm(hostId, vmId, vm.name(), vm.socket(), vm.pid());
                    admitted++;
                    if (c.qemuLoad > 0)
                    {
                        cluster.programLoad(vmId, c.qemuLoad, 0, 0); // queued behind its admission
                    }
                }
            }
            if (c.qemuLoad > 0)
            {
                // a programmed load is not journaled: the QEMU VMs recovered here (adopted here or arrived) get it again
                for (final long vmId : placement.keySet())
                {
                    if (isQemu(vmId))
                    {
                        cluster.programLoad(vmId, c.qemuLoad, 0, 0);
                    }
                }
            }
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (settled.get() < admitted) // counted by the listener: VMs may already be leaving by handoffs
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("admissions did not complete in 30 s (is the registry answering?)");
                }
                LockSupport.parkNanos(1_000_000L);
            }
        }
        catch (final RuntimeException ex)
        {
            node.close();
            if (endpoint != null)
            {
                endpoint.close();
            }
            throw ex;
        }
        final java.util.concurrent.ScheduledExecutorService swing = c.guestSwing > 0 && c.guestLoad > 0 ?
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
            {
                final Thread t = new Thread(r, "vmsched-guest-swing");
                t.setDaemon(true);
                return t;
            }) : null;
        if (swing != null)
        {
            // the wall clock gives every node the same phase for a VM, so its load goes on where it moves
            swing.scheduleAtFixedRate(() -> swing(cluster, c.guestLoad, c.guestSwing, c.swingPeriodMs), 250, 250,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                if (swing != null)
                {
                    swing.shutdownNow();
                }
                if (endpoint != null)
                {
                    endpoint.close();
                }
                node.close();
                out.println("vmsched node " + c.name + ": stopped cleanly (journal closed, registry session ended)");
            }
            catch (final RuntimeException ex)
            {
                out.println("vmsched node " + c.name + ": stopping failed: " + ex.getMessage());
            }
            finally
            {
                out.flush();
                stopped.countDown();
            }
        }, "vmsched-node-shutdown"));
        final long qemuHere = cluster.placement().keySet().stream().filter(ClusterNode::isQemu).count();
        out.printf("vmsched node %s: host %d, pid %d, listening on %s, %d VMs (%d recovered from the journal)%s; " +
            "%sstop with Ctrl-C or SIGTERM%n", c.name, hostId, ProcessHandle.current().pid(), c.bind,
            cluster.placement().size(), cluster.recoveredVms(), qemuHere == 0 ? "" : ", " + qemuHere + " of them QEMU VMs",
            endpoint == null ? "" : "metrics " + endpoint.url() + "; ");
        out.flush();
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The {@code --qemu} VMs this node adopted at an earlier start, by their position among the flags (which their
     * ids follow), read from its own journal in the data directory (none at a first start, or if it cannot be read:
     * recovery then says why). A restart neither checks nor adopts them again: recovery adopts again those still
     * here, and the others have left by live migration, their processes quit and their sockets gone.
     *
     * @param data the node's data directory.
     * @return their positions.
     */
    static java.util.Set<Integer> qemuAdoptedBefore(final Path data)
    {
        final java.util.Set<Integer> adopted = new java.util.HashSet<>();
        final Path journals = data.resolve("journal");
        if (!java.nio.file.Files.isDirectory(journals))
        {
            return adopted;
        }
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(journals))
        {
            for (final Path dir : dirs.filter(d -> d.getFileName().toString().matches("\\d{1,9}")).toList())
            {
                final long base = (Long.parseLong(dir.getFileName().toString()) + 1) * GUEST_IDS + QEMU_IDS;
                io.vmsched.journal.JournalCheck.verify(dir, (index, record) ->
                {
                    final long i = record.vmId() - base;
                    if (record.type() == io.vmsched.journal.RecordType.ADMITTED && i >= 0 && i < GUEST_IDS - QEMU_IDS)
                    {
                        adopted.add((int)i);
                    }
                });
            }
        }
        catch (final java.io.IOException | RuntimeException ex)
        {
            adopted.clear(); // a journal that cannot be read: each --qemu is checked, and the start says what is wrong
        }
        return adopted;
    }

    /** @return whether a VM's id is one that {@code --qemu} gives, on any node. */
    static boolean isQemu(final long vmId)
    {
        return vmId >= GUEST_IDS && vmId % GUEST_IDS >= QEMU_IDS;
    }

    private static ClusterListener listener(final Metrics endpoint, final ClusterListener log)
    {
        return endpoint == null ? log : endpoint.listener(log);
    }

    /** Each VM here gets its load on the wave now: base × (1 + swing × sin(2π t / period + its phase)). */
    private static void swing(final Cluster cluster, final double base, final double swing, final long periodMs)
    {
        try
        {
            final double t = 2 * Math.PI * (System.currentTimeMillis() % periodMs) / periodMs;
            for (final long vmId : cluster.placement().keySet())
            {
                final double phase = 2 * Math.PI * ((vmId * 0x9E3779B97F4A7C15L >>> 11) / (double)(1L << 53));
                cluster.programLoad(vmId, base * (1 + swing * Math.sin(t + phase)), 0, 0);
            }
        }
        catch (final RuntimeException ex)
        {
            // closing, or the VM left between the snapshot and the call: the next tick goes on
        }
    }

    /** Reach the registry, with a countdown on standard error while it cannot be reached. */
    private static Node connect(final Node.Context context, final int waitS, final String name)
    {
        final long deadline = System.nanoTime() + waitS * 1_000_000_000L;
        while (true)
        {
            try
            {
                return Node.start(context);
            }
            catch (final RegistryException ex)
            {
                // a name held by a live session may be this node's own before a crash: the registry frees
                // it when that session times out; any other refusal is final
                final boolean ownOldSession = ex.status() == io.vmsched.aeron.registry.RegistryStatus.NAME_TAKEN;
                if (ex.status() != null && !ownOldSession)
                {
                    throw new IllegalStateException(ex.getMessage(), ex);
                }
                final long left = (deadline - System.nanoTime()) / 1_000_000_000L;
                if (left <= 0)
                {
                    throw new IllegalStateException("gave up after " + waitS + " s: " + ex.getMessage(), ex);
                }
                System.err.println("vmsched node " + name + ": " + ex.getMessage() + (ownOldSession ?
                    " (if this node crashed, its old session ends at the registry's session timeout)" : "") +
                    "; trying again, " + left + " s left");
                if (ownOldSession)
                {
                    LockSupport.parkNanos(500_000_000L);
                }
            }
        }
    }
}
