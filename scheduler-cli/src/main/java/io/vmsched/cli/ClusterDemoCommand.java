package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmsched cluster-demo}: a cluster across processes on this machine: a registry of 1 or 3
 * members and N node processes on 127.0.0.1, skewed guests piled on the first two nodes, balanced by
 * handoffs between the processes; prints the per-second table from the registry's directory and stops
 * every process it started on exit (Ctrl-C included).
 */
@Command(name = "cluster-demo", mixinStandardHelpOptions = true,
    description = "Run a registry and N node processes on 127.0.0.1 and watch them balance.")
final class ClusterDemoCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.Run run = new Mixins.Run(30);

    @Option(names = "--nodes", defaultValue = "4", description = "Node processes, 2-32 (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--registry-members", defaultValue = "1", description = "Registry members, 1 or 3 (default: ${DEFAULT-VALUE}).")
    int members;

    @Option(names = "--guests", defaultValue = "24", description = "Guests piled on each of the first two nodes (default: ${DEFAULT-VALUE}).")
    int guests;

    @Option(names = "--guest-load", defaultValue = "0.05", description = "Each guest's programmed load, reference cores (default: ${DEFAULT-VALUE}).")
    double guestLoad;

    @Override
    public void run()
    {
        Flags.within("--nodes", nodes, 2, 32);
        if (members != 1 && members != 3)
        {
            throw new IllegalArgumentException("--registry-members must be 1 or 3, got " + members);
        }
        Flags.within("--guests", guests, 1, 10_000);
        if (!(guestLoad > 0 && guestLoad <= 1))
        {
            throw new IllegalArgumentException("--guest-load must be in (0, 1] reference cores, got " + guestLoad);
        }
        final PrintWriter out = spec.commandLine().getOut();
        final int seconds = run.duration.durationSeconds;
        final Path runDir = run.data.newRun("cluster-");
        final Path secret = runDir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final StringBuilder memberList = new StringBuilder();
        for (int m = 0; m < members; m++)
        {
            memberList.append(m == 0 ? "" : ",").append(m).append("=127.0.0.1:")
                .append(Children.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER));
        }
        final String registry = memberList.toString();
        final Children children = new Children(10_000);
        final Thread hook = new Thread(children::close, "vmsched-cluster-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C stops everything started
        try
        {
            for (int m = 0; m < members; m++)
            {
                children.start(runDir.resolve("registry-" + m + ".log"), "registry", "--id", Integer.toString(m),
                    "--members", registry, "--secret", secret.toString(), "--data", runDir.resolve("registry-" + m).toString());
            }
            final List<String> names = new ArrayList<>();
            for (int n = 0; n < nodes; n++)
            {
                final String name = "node-" + n;
                names.add(name);
                final int port = Children.freeUdpPorts(1);
                children.start(runDir.resolve(name + ".log"), "node", "--registry", registry, "--name", name,
                    "--bind", "127.0.0.1:" + port, "--secret", secret.toString(), "--data", runDir.resolve(name).toString(),
                    "--guests", Integer.toString(n < 2 ? guests : 0), "--guest-load", Double.toString(guestLoad),
                    "--balance-period-ms", "500");
            }
            out.printf(Locale.ROOT, "vmsched cluster-demo: a registry of %d member(s) at %s and %d node processes on " +
                "127.0.0.1; %d guests of %.2f cores each start on node-0 and node-1%nlogs and journals: %s%n%n",
                members, registry, nodes, 2 * guests, guestLoad, runDir.toAbsolutePath());
            out.flush();
            watch(out, registry, secret, seconds, nodes, 2 * guests, "guests", () -> { }, () -> false);
        }
        finally
        {
            children.close();
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ex)
            {
                // shutting down already: the hook runs
            }
        }
        out.printf("%nEvery process stopped. Check the journals across the nodes: vmsched journal verify %s%n",
            String.join(" ", nodeDirs(runDir)));
        out.flush();
    }

    private List<String> nodeDirs(final Path runDir)
    {
        final List<String> dirs = new ArrayList<>();
        for (int n = 0; n < nodes; n++)
        {
            dirs.add(runDir.resolve("node-" + n).toString());
        }
        return dirs;
    }

    /**
     * The table, one line a second, from the registry's directory (each node reports its load there), once {@code
     * nodes} nodes are up and report {@code vms} VMs in all ({@code what} names them in the error if they do not
     * within 90 s). {@code beforeLine} runs before each line (and while waiting): a demo prints its events there;
     * once {@code stop} says so the watch ends early (a demo's shutdown hook).
     */
    static void watch(final PrintWriter out, final String registry, final Path secret, final int seconds,
        final int nodes, final int vms, final String what, final Runnable beforeLine,
        final java.util.function.BooleanSupplier stop)
    {
        try (RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(RegistryMember.ingressEndpoints(registry))
            .secret(ClusterSecret.read(secret))
            .connectTimeout(60, TimeUnit.SECONDS)
            .log(line -> { })))
        {
            final long start = System.nanoTime();
            final long upBy = start + TimeUnit.SECONDS.toNanos(90);
            while (up(client.directory()) < nodes || reportedVms(client.directory()) < vms)
            {
                if (System.nanoTime() - upBy > 0)
                {
                    throw new IllegalStateException(up(client.directory()) + " of " + nodes + " nodes up and " +
                        reportedVms(client.directory()) + " of " + vms + " " + what + " admitted after 90 s; see their logs");
                }
                beforeLine.run();
                if (stop.getAsBoolean())
                {
                    return;
                }
                client.poll();
                Clock.sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
            }
            out.printf("every node is up and its %s admitted after %.1f s; each column a node as it last reported " +
                "to the registry (once a second): load (VMs)%n%n", what, (System.nanoTime() - start) / 1e9);
            final StringBuilder header = new StringBuilder("            ");
            final StringBuilder hosts = new StringBuilder("            ");
            for (final RegistryClient.NodeInfo node : byName(client.directory()))
            {
                header.append(String.format(Locale.ROOT, " %-9s", node.name()));
                hosts.append(String.format(Locale.ROOT, " %-9s", "host " + (node.nodeId() - 1))); // as journals name it
            }
            out.println(header);
            out.println(hosts);
            final long begin = System.nanoTime();
            for (int second = 1; second <= seconds; second++)
            {
                final long tick = begin + TimeUnit.SECONDS.toNanos(second);
                while (System.nanoTime() - tick < 0 && !stop.getAsBoolean())
                {
                    Clock.sleepUntil(Math.min(tick, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100)));
                }
                beforeLine.run();
                if (stop.getAsBoolean())
                {
                    out.printf(Locale.ROOT, "Interrupted at t=%.1fs: stopping%n", (System.nanoTime() - begin) / 1e9);
                    out.flush();
                    return;
                }
                final List<RegistryClient.NodeInfo> directory = byName(client.directory());
                final double[] loads = new double[directory.size()];
                final StringBuilder line = new StringBuilder();
                for (int i = 0; i < directory.size(); i++)
                {
                    final RegistryClient.NodeInfo node = directory.get(i);
                    loads[i] = node.load();
                    line.append(node.up() ? String.format(Locale.ROOT, " %-9s", String.format(Locale.ROOT, "%.2f(%d)",
                        node.load(), node.vmCount())) : " down     ");
                }
                out.printf(Locale.ROOT, "t=%3ds      %s  cv %.2f%n", second, line, io.vmsched.load.ClusterStats.cv(loads));
                out.flush();
            }
        }
    }

    private static List<RegistryClient.NodeInfo> byName(final List<RegistryClient.NodeInfo> directory)
    {
        final List<RegistryClient.NodeInfo> sorted = new ArrayList<>(directory);
        sorted.sort(java.util.Comparator.comparing(RegistryClient.NodeInfo::name));
        return sorted;
    }

    private static int reportedVms(final List<RegistryClient.NodeInfo> directory)
    {
        int vms = 0;
        for (final RegistryClient.NodeInfo node : directory)
        {
            vms += node.up() && node.reported() ? node.vmCount() : 0;
        }
        return vms;
    }

    private static int up(final List<RegistryClient.NodeInfo> directory)
    {
        int up = 0;
        for (final RegistryClient.NodeInfo node : directory)
        {
            up += node.up() ? 1 : 0;
        }
        return up;
    }
}
