package io.vmsched.bench;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.node.Node;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostConfig;
import io.vmsched.cluster.Request;
import io.vmsched.guest.CpuBurnerGuest;
import io.vmsched.guest.IdleGuest;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One node process of {@link NodeHandoffLatency}: the same {@link Node} as {@code vmsched node --registry}
 * (its host settings, {@code --workers} dispatcher workers), with balancing off so that only the harness
 * moves VMs, driven line by line on its standard input; it answers on its standard output (its log goes
 * to standard error). Commands and answers:
 * <pre>
 * peer H           -> known H                  once this node knows host H (from the registry's directory)
 * admit VM         -> admitted VM              an empty guest ({@link IdleGuest}), weight 1
 * burn N           -> burning N                N guests that burn all the CPU they are given ({@link CpuBurnerGuest} at 1.0)
 * migrate VM H     -> committed VM CALL INTENT the source committed: ns from the migrate call, and from
 *                                              MIGRATION_INTENT ({@link ClusterListener#onMigrated}'s duration)
 *                  -> aborted VM REASON        or the migration aborted (the VM stays here)
 *                  -> failed VM REASON         or the request failed
 * quit (or the end of the input)               close the node (it settles what it holds) and exit
 * </pre>
 * At start it prints {@code up HOST PID} once it has joined. It also exits when the harness ends.
 * <p>
 * {@code node --registry M --name NAME --bind HOST:PORT --secret FILE --data DIR --workers N}.
 */
public final class NodeHandoffLatencyProcess
{
    /** Burner guest ids of host {@code h} start at {@code (h + 1) × BURNER_IDS}. */
    static final long BURNER_IDS = 1_000_000_000L;

    private NodeHandoffLatencyProcess()
    {
    }

    /**
     * @param args {@code node}, then its options.
     */
    public static void main(final String[] args)
    {
        final Map<String, String> options = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2)
        {
            options.put(args[i], args[i + 1]);
        }
        final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        try
        {
            if (args.length == 0 || !"node".equals(args[0]))
            {
                throw new IllegalArgumentException("expected node as the first argument");
            }
            node(options, out);
            System.exit(0);
        }
        catch (final RuntimeException | IOException ex)
        {
            System.err.println("NodeHandoffLatencyProcess: " + ex);
            out.println("error " + ex.getMessage());
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

    private static void node(final Map<String, String> options, final PrintStream out) throws IOException
    {
        final String name = required(options, "--name");
        final HostConfig host = Node.Context.defaultHost(); // as vmsched node: the gossip view
        host.workers = Integer.parseInt(required(options, "--workers"));
        host.balancing = false; // only the harness moves VMs
        final Map<Long, Long> calledNs = new ConcurrentHashMap<>();
        final AtomicInteger admitted = new AtomicInteger();
        final Node node = Node.start(new Node.Context().name(name).bind(required(options, "--bind"))
            .registry(required(options, "--registry"))
            .secret(ClusterSecret.read(Path.of(required(options, "--secret"))))
            .dataDir(Path.of(required(options, "--data"))).host(host).connectTimeoutMs(60_000)
            .log(line -> System.err.println("node " + name + ": " + line))
            .listener(new ClusterListener()
            {
                @Override
                public void onAdmitted(final int h, final long vmId)
                {
                    admitted.incrementAndGet();
                    if (vmId < BURNER_IDS)
                    {
                        out.println("admitted " + vmId);
                    }
                }

                @Override
                public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
                {
                    final long now = System.nanoTime();
                    final Long called = calledNs.remove(vmId);
                    out.println("committed " + vmId + " " + (called == null ? -1 : now - called) + " " + durationNs);
                }

                @Override
                public void onAborted(final long vmId, final int source, final int target, final String reason)
                {
                    calledNs.remove(vmId);
                    out.println("aborted " + vmId + " " + reason);
                }

                @Override
                public void onRequestFailed(final int h, final Request request, final long vmId, final String reason)
                {
                    calledNs.remove(vmId);
                    out.println("failed " + vmId + " " + request + ": " + reason);
                }

                @Override
                public void onError(final int h, final Throwable error)
                {
                    System.err.println("node " + name + ": " + error);
                }
            }));
        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                if (closed.getCount() > 0)
                {
                    node.close(); // SIGTERM, or the harness ended: settle and close once
                }
            }
            finally
            {
                closed.countDown();
            }
        }, "node-handoff-latency-shutdown"));
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        final Cluster cluster = node.cluster();
        final int hostId = node.hostId();
        out.println("up " + hostId + " " + ProcessHandle.current().pid());
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        long burners = 0;
        String line;
        while ((line = in.readLine()) != null)
        {
            final String[] w = line.trim().split("\\s+");
            switch (w[0])
            {
                case "peer":
                    final int peer = Integer.parseInt(w[1]);
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (cluster.hostCount() <= peer && System.nanoTime() - deadline < 0)
                    {
                        LockSupport.parkNanos(10_000_000L);
                    }
                    out.println(cluster.hostCount() > peer ? "known " + peer : "error host " + peer + " unknown after 30 s");
                    break;
                case "admit":
                    cluster.admit(hostId, Long.parseLong(w[1]), 1, new IdleGuest());
                    break;
                case "burn":
                    final int n = Integer.parseInt(w[1]);
                    final int before = admitted.get();
                    for (int i = 0; i < n; i++)
                    {
                        cluster.admit(hostId, (hostId + 1) * BURNER_IDS + ++burners, 1, new CpuBurnerGuest(1.0));
                    }
                    final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (admitted.get() < before + n && System.nanoTime() - until < 0)
                    {
                        LockSupport.parkNanos(1_000_000L);
                    }
                    out.println(admitted.get() >= before + n ? "burning " + n : "error burners not admitted after 30 s");
                    break;
                case "migrate":
                    final long vm = Long.parseLong(w[1]);
                    calledNs.put(vm, System.nanoTime());
                    try
                    {
                        cluster.migrate(vm, Integer.parseInt(w[2]));
                    }
                    catch (final RuntimeException ex)
                    {
                        calledNs.remove(vm);
                        out.println("failed " + vm + " " + ex.getMessage());
                    }
                    break;
                case "quit":
                    return; // main exits: the shutdown hook closes the node
                default:
                    out.println("error unknown command " + line);
            }
        }
    }
}
