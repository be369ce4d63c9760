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
        Flags.within("--max-nodes", c.maxNodes, 2, 65_536);
        Flags.within("--registry-wait-s", c.registryWaitS, 1, 3_600);
        Flags.within("--balance-period-ms", c.balancePeriodMs, 50, 3_600_000);
        if (!(c.guestLoad >= 0 && c.guestLoad <= 1024))
        {
            throw new IllegalArgumentException("--guest-load must be in [0, 1024] reference cores, got " + c.guestLoad);
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
        final java.util.List<QemuVm> qemuVms = QemuVm.parse(c.qemus, 0, data.resolve(NodeCommand.QEMU_RUN_DIR));
        final Metrics endpoint = c.metricsEndpoint.start(); // before the registry hears of this node: a taken port changes nothing
        final PrintWriter out = c.spec.commandLine().getOut();
        final java.util.concurrent.atomic.AtomicInteger settled = new java.util.concurrent.atomic.AtomicInteger();
        final HostConfig host = Node.Context.defaultHost();
        host.workers = c.workers;
        host.balancePeriodNs = c.balancePeriodMs * 1_000_000L;
        // incoming copies listen where peers reach this node (its --bind host), never on all interfaces
        final String bindHost = c.bind.substring(0, c.bind.lastIndexOf(':')).replace("[", "").replace("]", "");
        host.vmDriver = h -> new io.vmsched.qemu.QemuVmDriver(data.resolve(NodeCommand.QEMU_RUN_DIR), bindHost,
            io.vmsched.qemu.QmpClient.DEFAULT_TIMEOUT, io.vmsched.qemu.QemuVmDriver.DEFAULT_START_TIMEOUT,
            io.vmsched.qemu.QemuVmDriver.DEFAULT_QUIT_TIMEOUT);
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
                if (!placement.containsKey(vmId)) // one the journal holds was adopted again by recovery
                {
                    cluster.adoptVm(hostId, vmId, vm.name(), vm.socket(), vm.pid());
                    admitted++;
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
        out.printf("vmsched node %s: host %d, pid %d, listening on %s, %d VMs (%d recovered from the journal)%s; " +
            "%sstop with Ctrl-C or SIGTERM%n", c.name, hostId, ProcessHandle.current().pid(), c.bind,
            cluster.placement().size(), cluster.recoveredVms(), qemuVms.isEmpty() ? "" : ", " + qemuVms.size() +
            " QEMU VMs pinned here", endpoint == null ? "" : "metrics " + endpoint.url() + "; ");
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
