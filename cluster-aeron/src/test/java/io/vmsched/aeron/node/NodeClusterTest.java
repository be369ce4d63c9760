package io.vmsched.aeron.node;

import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostConfig;
import io.vmsched.guest.IdleGuest;
import io.vmsched.journal.JournalCheck;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Nodes of a cluster across machines, in one JVM for speed (each with its own Aeron transport, media
 * driver and registry session; the separate-process tests are in the CLI module): a 1-member registry
 * and three nodes; skewed VMs spread by handoffs over Aeron whose commit point is the registry; the
 * registry's owner table agrees with what each node runs; a node's data directory is its own name's;
 * a node restarted on its directory recovers its VMs and the registry still names it.
 */
@Timeout(180)
class NodeClusterTest
{
    private static final String LOOPBACK = "127.0.0.1";

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final byte[] secret = secret();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll()
    {
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(toClose.get(i));
        }
    }

    private static byte[] secret()
    {
        final byte[] s = new byte[32];
        new java.util.Random(7).nextBytes(s);
        return s;
    }


    private String registry()
    {
        final String members = "0=" + LOOPBACK + ":" + io.vmsched.aeron.LoopbackPorts.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        toClose.add(RegistryMember.launch(new RegistryMember.Context().memberId(0).members(members)
            .dataDir(dir.resolve("registry").toFile()).sessionTimeout(2, TimeUnit.SECONDS).secret(secret)
            .log(line -> System.out.println("[registry] " + line))));
        return members;
    }

    private Node node(final String registry, final String name)
    {
        final HostConfig host = Node.Context.defaultHost();
        host.balancePeriodNs = 200_000_000L;
        host.samplePeriodNs = 50_000_000L;
        host.handoffTimeoutNs = 300_000_000L;
        host.balance.thresholdFraction = 0.10;
        final Node node = Node.start(new Node.Context().name(name).bind(LOOPBACK + ":" + io.vmsched.aeron.LoopbackPorts.freeUdpPorts(1))
            .registry(registry).secret(secret).dataDir(dir.resolve(name)).maxHosts(16).host(host)
            .directoryPeriodMs(200).connectTimeoutMs(30_000)
            .log(line -> System.out.println("[" + name + "] " + line))
            .listener(new ClusterListener()
            {
                @Override
                public void onError(final int h, final Throwable error)
                {
                    errors.add(name + ": " + error);
                }
            }));
        toClose.add(node);
        return node;
    }

    /**
     * Start a node again under its name, as {@code vmsched node} does: the registry may not have seen the old
     * session's end yet (its close crosses from another client; else the session timeout ends it), and until then
     * the name is taken.
     */
    private Node restart(final String registry, final String name)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            try
            {
                return node(registry, name);
            }
            catch (final io.vmsched.aeron.registry.RegistryException ex)
            {
                if (ex.status() != RegistryStatus.NAME_TAKEN || System.nanoTime() - deadline > 0)
                {
                    throw ex;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
            }
        }
    }

    private RegistryClient observer(final String registry)
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(RegistryMember.ingressEndpoints(registry)).secret(secret).connectTimeout(30, TimeUnit.SECONDS)
            .log(line -> { }));
        toClose.add(client); // not registered: a tool reads without joining (a registered one would be a peer)
        return client;
    }

    private static void await(final String what, final long seconds, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    @Test
    void skewedVmsSpreadAcrossNodesAndTheRegistryAgreesWithWhatEachRuns()
    {
        final String registry = registry();
        final Node a = node(registry, "a");
        final Node b = node(registry, "b");
        final Node c = node(registry, "c");
        final List<Node> nodes = List.of(a, b, c);
        final int vms = 18;
        for (int i = 1; i <= vms; i++)
        {
            a.cluster().admit(a.hostId(), i, 1, new IdleGuest());
            a.cluster().programLoad(i, 0.05, 0, 0);
        }
        await("every node holds some VMs", 60, () -> b.cluster().placement().size() >= 3 && c.cluster().placement().size() >= 3);
        nodes.forEach(n -> n.cluster().balancing(false));
        await("the handoffs settle", 30, () -> nodes.stream().allMatch(n -> n.cluster().migrationsInFlight() == 0));

        final RegistryClient observer = observer(registry);
        final Map<Long, Integer> runs = new HashMap<>();
        for (final Node n : nodes)
        {
            n.cluster().placement().forEach((vm, host) ->
                assertNull(runs.put(vm, RegistryOwners.nodeOf(n.hostId())), "vm " + vm + " on two nodes"));
        }
        assertEquals(vms, runs.size(), "every VM on exactly one node");
        for (long vm = 1; vm <= vms; vm++)
        {
            final RegistryClient.Ownership entry = observer.query(vm);
            assertEquals(RegistryStatus.OK, entry.status());
            assertEquals(runs.get(vm), entry.owner(), "the registry names the node that runs vm " + vm);
        }
        assertTrue(errors.isEmpty(), errors.toString());
        nodes.forEach(n -> assertEquals(0, n.transport().refusals(), "no frame refused between members"));
        for (final Node n : nodes)
        {
            n.close();
            assertTrue(JournalCheck.verify(dir.resolve(n == a ? "a" : n == b ? "b" : "c").resolve("journal")
                .resolve(Integer.toString(n.hostId()))) > 0);
        }
    }

    @Test
    void aNodeRestartsOnItsOwnDirectoryOnlyAndRecoversWhatTheRegistryNamesIt()
    {
        final String registry = registry();
        Node a = node(registry, "a");
        final int host = a.hostId();
        for (int i = 1; i <= 3; i++)
        {
            a.cluster().admit(host, 100 + i, 1, new IdleGuest());
        }
        final Node first = a;
        await("admitted", 20, () -> first.cluster().host(host).vmCount() == 3);
        a.close();
        toClose.remove(a);

        final IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> Node.start(
            new Node.Context().name("z").bind(LOOPBACK + ":" + io.vmsched.aeron.LoopbackPorts.freeUdpPorts(1)).registry(registry).secret(secret)
                .dataDir(dir.resolve("a"))));
        assertTrue(other.getMessage().contains("holds the journal of node 'a'"), other.getMessage());

        a = restart(registry, "a");
        assertEquals(host, a.hostId(), "the registry gives a node its id back by name");
        assertEquals(3, a.cluster().recoveredVms());
        final RegistryClient observer = observer(registry);
        assertEquals(RegistryOwners.nodeOf(host), observer.query(101).owner());
        a.cluster().remove(102);
        final Node again = a;
        await("removed and released", 20, () -> again.cluster().placement().size() == 2 &&
            observer.query(102).status() == RegistryStatus.ABSENT);
    }
}
