package io.vmsched.cli;

import io.vmsched.aeron.registry.RegistryClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;

/**
 * {@code vmsched drain NODE} / {@code vmsched undrain NODE} on a cluster across machines: the drain lives in the
 * registry (with the services and rules), so every node stops sending the node VMs and the registry refuses any
 * that would still arrive; the node moves its VMs away. With {@code --wait}, a progress line a second until the
 * node reports none.
 */
final class DrainCommand
{
    private DrainCommand()
    {
    }

    /** Shared by drain and undrain: the registry, the node. */
    abstract static class Base implements Runnable
    {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Mixin
        final Mixins.Registry registry = new Mixins.Registry();

        @Parameters(index = "0", paramLabel = "NODE", description = "The node's name.")
        String node;

        abstract String verb();

        void after(final RegistryClient client, final RegistryClient.NodeInfo target, final PrintWriter out)
        {
        }

        @Override
        public void run()
        {
            if (!registry.given())
            {
                throw new IllegalArgumentException("vmsched " + verb() + " needs --registry and --secret (an embedded " +
                    "cluster drains with Cluster.drain)");
            }
            final PrintWriter out = spec.commandLine().getOut();
            try (RegistryClient client = registry.connect())
            {
                final RegistryClient.NodeInfo target = client.directory().stream().filter(n -> n.name().equals(node))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("the registry knows no node '" + node + "'"));
                try
                {
                    client.place(List.of(verb() + " " + (target.nodeId() - 1))); // host ids are node ids - 1
                }
                catch (final io.vmsched.aeron.registry.RegistryException ex)
                {
                    if (io.vmsched.aeron.registry.RegistryStatus.REFUSED == ex.status())
                    {
                        throw new IllegalArgumentException(ex.getMessage());
                    }
                    throw ex;
                }
                out.printf("node %s (host %d): %s%n", node, target.nodeId() - 1, verb().equals("drain") ?
                    "draining: it takes no new VM and moves its VMs away" : "takes VMs again");
                out.flush();
                after(client, target, out);
            }
        }
    }

    /** {@code vmsched drain}. */
    @Command(name = "drain", mixinStandardHelpOptions = true,
        description = "Drain a node of a cluster across machines: it takes no new VM and its VMs move away.")
    static final class Drain extends Base
    {
        @Option(names = "--wait", description = "Print the node's VM count each second until it reports none.")
        boolean waitEmpty;

        @Option(names = "--wait-s", defaultValue = "600", description = "With --wait: give up after this many seconds (default: ${DEFAULT-VALUE}).")
        long waitS;

        @Override
        String verb()
        {
            return "drain";
        }

        @Override
        void after(final RegistryClient client, final RegistryClient.NodeInfo target, final PrintWriter out)
        {
            if (!waitEmpty)
            {
                return;
            }
            Flags.within("--wait-s", waitS, 1, 86_400);
            final long deadline = System.nanoTime() + waitS * 1_000_000_000L;
            while (true)
            {
                final RegistryClient.NodeInfo now = client.directory().stream()
                    .filter(n -> n.nodeId() == target.nodeId()).findFirst().orElseThrow();
                out.printf("node %s: %s%n", node, !now.up() ? "down (its VMs need recovery from its journal: restart it " +
                    "on its data directory)" : now.vmCount() + " VM" + (now.vmCount() == 1 ? "" : "s") + " left");
                out.flush();
                if (now.up() && now.reported() && now.vmCount() == 0)
                {
                    out.printf("node %s is drained: stop it, or undrain it%n", node);
                    return;
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("node " + node + " still holds " + now.vmCount() + " VMs after " + waitS +
                        " s: a VM may have nowhere to go (a hard rule or a limit); see its log");
                }
                Clock.sleepUntil(System.nanoTime() + 1_000_000_000L);
                client.poll();
            }
        }
    }

    /** {@code vmsched undrain}. */
    @Command(name = "undrain", mixinStandardHelpOptions = true,
        description = "Stop draining a node of a cluster across machines: it takes VMs again.")
    static final class Undrain extends Base
    {
        @Override
        String verb()
        {
            return "undrain";
        }
    }
}
