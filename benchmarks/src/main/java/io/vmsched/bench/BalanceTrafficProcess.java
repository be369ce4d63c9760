package io.vmsched.bench;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.node.Node;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostConfig;
import io.vmsched.cluster.Request;
import io.vmsched.guest.IdleGuest;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One process of {@link BalanceTraffic}: {@code registry} (a registry member, as {@code vmsched registry})
 * or {@code node} (a node with guests of programmed, swinging loads, as {@code vmsched node --registry
 * --guests --guest-load --guest-swing}: the same {@link Node}, host settings, guest ids and wave). What
 * differs from {@code vmsched node}: the node waits up to a minute for the registry at its start
 * instead of retrying every second (32 JVMs starting on 2 cores miss a 1-second connect again and again,
 * each retry starting a media driver anew), and it always writes {@link Node#TRAFFIC_FILE}.
 * <p>
 * {@code registry --members M --secret FILE --data DIR [--session-timeout-ms MS]};
 * {@code node --registry M --name NAME --bind HOST:PORT --secret FILE --data DIR --guests N --guest-load L
 * --guest-swing S [--swing-period-ms MS] --balance-period-ms MS}. Runs until SIGTERM, or until the harness that
 * started it ends.
 */
public final class BalanceTrafficProcess
{
    /** Guest ids of host {@code h} start at {@code (h + 1) × GUEST_IDS}, as {@code vmsched node}'s. */
    static final long GUEST_IDS = 1_000_000_000L;

    private BalanceTrafficProcess()
    {
    }

    /**
     * @param args the role, then its options.
     */
    public static void main(final String[] args)
    {
        final Map<String, String> options = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2)
        {
            options.put(args[i], args[i + 1]);
        }
        try
        {
            if (args.length > 0 && "registry".equals(args[0]))
            {
                registry(options);
            }
            else if (args.length > 0 && "node".equals(args[0]))
            {
                node(options);
            }
            else
            {
                throw new IllegalArgumentException("expected registry or node as the first argument");
            }
        }
        catch (final RuntimeException ex)
        {
            System.err.println("BalanceTrafficProcess: " + ex.getMessage());
            System.exit(1);
        }
    }

    private static String required(final Map<String, String> options, final String name)
    {
        final String value = options.get(name);
        if (value == null)
        {
            throw new IllegalArgumentException("missing " + name);
        }
        return value;
    }

    static void registry(final Map<String, String> options)
    {
        final RegistryMember member = RegistryMember.launch(new RegistryMember.Context()
            .memberId(0)
            .members(required(options, "--members"))
            .dataDir(Path.of(required(options, "--data")).toFile())
            .secret(ClusterSecret.read(Path.of(required(options, "--secret"))))
            .sessionTimeout(Long.parseLong(options.getOrDefault("--session-timeout-ms", "5000")), TimeUnit.MILLISECONDS)
            .log(line -> System.err.println("registry: " + line)));
        System.out.printf("registry: member 0 of %s, pid %d%n", required(options, "--members"), ProcessHandle.current().pid());
        System.out.flush();
        awaitTerm(member::close);
    }

    private static void node(final Map<String, String> options)
    {
        final String name = required(options, "--name");
        final int guests = Integer.parseInt(required(options, "--guests"));
        final double guestLoad = Double.parseDouble(required(options, "--guest-load"));
        final double guestSwing = Double.parseDouble(required(options, "--guest-swing"));
        final long swingPeriodMs = Long.parseLong(options.getOrDefault("--swing-period-ms", "8000"));
        final AtomicInteger settled = new AtomicInteger();
        final HostConfig host = Node.Context.defaultHost(); // as vmsched node: the gossip view, 1 worker
        host.workers = 1;
        host.balancePeriodNs = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(required(options, "--balance-period-ms")));
        final Node node = Node.start(new Node.Context().name(name).bind(required(options, "--bind"))
            .registry(required(options, "--registry"))
            .secret(ClusterSecret.read(Path.of(required(options, "--secret"))))
            .dataDir(Path.of(required(options, "--data"))).host(host).connectTimeoutMs(60_000).writeTraffic(true)
            .log(line -> System.err.println("node " + name + ": " + line))
            .listener(new ClusterListener()
            {
                @Override
                public void onAdmitted(final int h, final long vmId)
                {
                    settled.incrementAndGet();
                }

                @Override
                public void onRequestFailed(final int h, final Request request, final long vmId, final String reason)
                {
                    if (request != Request.PROGRAM_LOAD) // the swing's: the VM left meanwhile
                    {
                        settled.incrementAndGet();
                        System.err.println("node " + name + ": " + request + " of vm " + vmId + " failed: " + reason);
                    }
                }

                @Override
                public void onError(final int h, final Throwable error)
                {
                    System.err.println("node " + name + ": " + error.getMessage());
                }
            }));
        final Cluster cluster = node.cluster();
        final int hostId = node.hostId();
        final long base = (hostId + 1) * GUEST_IDS;
        for (int i = 1; i <= guests; i++)
        {
            cluster.admit(hostId, base + i, 1, new IdleGuest());
            cluster.programLoad(base + i, guestLoad, 0, 0);
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (settled.get() < guests && System.nanoTime() - deadline < 0)
        {
            LockSupport.parkNanos(1_000_000L);
        }
        final ScheduledExecutorService swing = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "vmsched-guest-swing");
            t.setDaemon(true);
            return t;
        });
        if (guestSwing > 0)
        {
            swing.scheduleAtFixedRate(() -> swing(cluster, guestLoad, guestSwing, swingPeriodMs), 250, 250, TimeUnit.MILLISECONDS);
        }
        System.out.printf("node %s: host %d, pid %d, listening on %s, %d VMs admitted%n", name, hostId,
            ProcessHandle.current().pid(), required(options, "--bind"), settled.get());
        System.out.flush();
        awaitTerm(() ->
        {
            swing.shutdownNow();
            node.close();
        });
    }

    /** As {@code vmsched node}'s: each VM here gets base × (1 + swing × sin(2π t / period + its phase)). */
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

    /**
     * Wait for SIGTERM, or for the harness that started this process to end (killed, say, before it could
     * stop its children): either way {@code close} runs once, in a shutdown hook, and the process ends.
     */
    static void awaitTerm(final Runnable close)
    {
        final CountDownLatch stopped = new CountDownLatch(1);
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                close.run();
                System.out.println("stopped cleanly");
            }
            finally
            {
                System.out.flush();
                stopped.countDown();
            }
        }, "balance-traffic-shutdown"));
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
