package io.vmsched.aeron.node;

import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostConfig;
import io.vmsched.guest.IdleGuest;
import io.vmsched.placement.Rule;
import io.vmsched.placement.ServiceHealth;
import io.vmsched.placement.StatusReport;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Services and placement rules across machines (nodes in one JVM, each with its own transport, driver and
 * registry session): the registry holds them, a change at one node is checked against the whole cluster
 * and reaches the others, every admission and move is checked at the registry's commit point (whatever a
 * node's copy says), and the status is the registry's.
 */
@Timeout(180)
class NodePlacementTest
{
    private static final String LOOPBACK = "127.0.0.1";

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final byte[] secret = secret();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<String> aborts = new CopyOnWriteArrayList<>();
    private final List<String> statuses = new CopyOnWriteArrayList<>(); // "node service previous->health: cause"
    private final List<String> registryLog = new CopyOnWriteArrayList<>();

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
            .log(line ->
            {
                registryLog.add(line);
                System.out.println("[registry] " + line);
            })));
        return members;
    }

    private Node node(final String registry, final String name, final String labels)
    {
        final HostConfig host = Node.Context.defaultHost();
        host.balancePeriodNs = 200_000_000L;
        host.samplePeriodNs = 50_000_000L;
        host.handoffTimeoutNs = 300_000_000L;
        host.balance.thresholdFraction = 0.10;
        final Node node = Node.start(new Node.Context().name(name).bind(LOOPBACK + ":" + io.vmsched.aeron.LoopbackPorts.freeUdpPorts(1))
            .registry(registry).secret(secret).dataDir(dir.resolve(name)).maxHosts(16).host(host).labels(labels)
            .directoryPeriodMs(200).connectTimeoutMs(30_000)
            .log(line -> System.out.println("[" + name + "] " + line))
            .listener(new ClusterListener()
            {
                @Override
                public void onError(final int h, final Throwable error)
                {
                    errors.add(name + ": " + error);
                }

                @Override
                public void onRequestFailed(final int h, final io.vmsched.cluster.Request request, final long vmId,
                    final String reason)
                {
                    failures.add(vmId + ": " + reason);
                }

                @Override
                public void onAborted(final long vmId, final int source, final int target, final String reason)
                {
                    aborts.add(vmId + ": " + reason);
                }

                @Override
                public void onServiceStatus(final io.vmsched.placement.ServiceStatus status)
                {
                    statuses.add(name + " " + status.service() + " " + (status.previous() == null ? "none" :
                        status.previous().word()) + "->" + status.health().word() + ": " + status.cause());
                }
            }));
        toClose.add(node);
        return node;
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

    private static int hostOf(final Node node)
    {
        return node.hostId();
    }

    private static StatusReport.ServiceReport service(final StatusReport report, final String name)
    {
        return report.services().stream().filter(s -> s.service().name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * An admission a hard rule forbids is refused: at once by the node (its copy of the rules names the rule),
     * or, when the node did not know yet (its copy or its view of where the VMs run is behind), by the
     * registry at the commit point, reported as a failed request.
     */
    private void refused(final long vm, final Runnable admit, final String rule)
    {
        try
        {
            admit.run();
        }
        catch (final IllegalArgumentException ex)
        {
            assertTrue(ex.getMessage().contains(rule), ex.getMessage());
            return;
        }
        await("the registry's refusal of vm " + vm, 30, () -> failures.stream().anyMatch(f -> f.startsWith(vm + ": ") &&
            f.contains("forbids it there")));
    }

    @Test
    void rulesLiveInTheRegistryAndHoldAcrossNodes()
    {
        final String registry = registry();
        final Node a = node(registry, "a", "ssd");
        final Node b = node(registry, "b", "");
        final Node c = node(registry, "c", "");
        final RegistryClient observer = observer(registry);
        // a node learns a later one from the registry's directory (each directory period): a service of 3 apart
        // is feasible only once it knows 3 hosts
        await("every node to know the three", 30, () ->
            a.cluster().hostCount() == 3 && b.cluster().hostCount() == 3 && c.cluster().hostCount() == 3);

        // a change made at node a is checked by the registry and reaches node c's copy
        a.cluster().defineService("web", 3, 2);
        a.cluster().addRule(Rule.ofService("apart", Rule.Kind.ANTI_AFFINITY, true, "web", null));
        assertEquals(2, observer.placement().statements().size(), observer.placement().statements().toString());
        await("node c to adopt the registry's rules", 30, () -> c.cluster().constraints().size() == 2);

        // a rule naming a VM no node admitted is refused by the registry in one line, and nothing changes
        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
            () -> b.cluster().addRule(Rule.antiAffinity("ghost", true, 424242, 424243)));
        assertTrue(unknown.getMessage().contains("424242"), unknown.getMessage());
        assertFalse(unknown.getMessage().contains("\n"));
        assertEquals(2, observer.placement().statements().size());

        // admission into the service: one member per node; a second one on a node is refused naming the rule
        assertEquals(hostOf(a), a.cluster().admit("web", 1, 1, new IdleGuest()));
        assertEquals(hostOf(b), b.cluster().admit("web", 2, 1, new IdleGuest()));
        await("the registry to own vms 1 and 2", 30, () -> RegistryStatus.OK == observer.query(1).status() &&
            RegistryStatus.OK == observer.query(2).status());
        refused(3, () -> a.cluster().admit("web", 3, 1, new IdleGuest()), "apart");
        assertEquals(RegistryStatus.ABSENT, observer.query(3).status(), "vm 3 was never owned");

        // rules added through the registry directly (another operator): whatever node b's copy holds when it
        // admits vm 5 there, the registry refuses it at the commit point (b has no ssd)
        observer.place(List.of("service db size=1", "join db vms=5", "on-label needs-ssd hard label=ssd service=db"));
        refused(5, () -> b.cluster().admit(hostOf(b), 5, 1, new IdleGuest()), "needs-ssd");
        assertEquals(RegistryStatus.ABSENT, observer.query(5).status(), "vm 5 was never owned");

        // a move that would put two members on one node is refused (by the source, the target or the registry)
        final int abortsBefore = aborts.size();
        try
        {
            a.cluster().migrate(1, hostOf(b));
            await("the move to be refused", 30, () -> aborts.size() > abortsBefore || failures.stream().anyMatch(f -> f.startsWith("1: ")));
        }
        catch (final IllegalArgumentException ex)
        {
            assertTrue(ex.getMessage().contains("apart"), ex.getMessage());
        }
        assertEquals(a.hostId() + 1, observer.query(1).owner(), "vm 1 stays on node a");
        // a move that breaks nothing is made
        // (asked again while the refused move still settles at the source: a migrating VM is not moved)
        final long[] asked = {0};
        await("vm 1 to move to node c", 30, () ->
        {
            if (System.nanoTime() - asked[0] > TimeUnit.SECONDS.toNanos(2))
            {
                asked[0] = System.nanoTime();
                a.cluster().migrate(1, hostOf(c));
            }
            return observer.query(1).owner() == c.hostId() + 1;
        });

        // the status is the registry's, the same at every node: web has 2 of 3, its rule holds
        final StatusReport status = b.cluster().status();
        final StatusReport.ServiceReport web = service(status, "web");
        assertEquals(ServiceHealth.DEGRADED, web.health(), web.cause());
        assertTrue(web.cause().contains("2 VMs running of its size 3"), web.cause());
        assertTrue(status.rules().stream().allMatch(StatusReport.RuleReport::holds), status.rules().toString());
        assertEquals(List.of(hostOf(c), hostOf(b)), web.vms().stream().map(StatusReport.VmReport::host).toList());

        // node c stops: its VM's node is down, fewer than the minimum run: failed
        c.close();
        await("web to fail with node c down", 60, () ->
        {
            final StatusReport.ServiceReport now = service(a.cluster().status(), "web");
            return now.health() == ServiceHealth.FAILED && now.cause().contains("fewer than its minimum");
        });
        assertTrue(errors.isEmpty(), errors.toString());

        // each change of status is an event at every node, as the registry judged it, without anyone asking:
        // web was degraded with 2 of 3 running, then failed when node c went down
        for (final String node : List.of("a", "b"))
        {
            await("node " + node + " to hear web fail", 30, () -> statuses.stream().anyMatch(e ->
                e.startsWith(node + " web degraded->failed: ") && e.contains("fewer than its minimum")));
            assertTrue(statuses.stream().anyMatch(e -> e.startsWith(node + " web ") && e.contains("->degraded: ")),
                statuses.toString());
        }
        assertTrue(registryLog.stream().anyMatch(l -> l.startsWith("registry: service web degraded -> failed: ")), registryLog.toString());
        // and node a journaled it in its placement journal
        await("node a's journal to hold web's failure", 30, () ->
        {
            final List<String> journaled = new ArrayList<>();
            try (io.vmsched.journal.ChronicleJournal journal = io.vmsched.journal.ChronicleJournal.openReadOnly(
                dir.resolve("a").resolve("placement"), -1))
            {
                journal.replay((index, record) ->
                {
                    if (record.type() == io.vmsched.journal.RecordType.SERVICE_STATUS)
                    {
                        journaled.add(ServiceHealth.values()[record.code()].word() + " " + record.text());
                    }
                });
            }
            return journaled.stream().anyMatch(t -> t.startsWith("failed web ") && t.contains("fewer than its minimum"));
        });
    }

    @Test
    void aDrainedNodeEmptiesAndTheRegistryRefusesItVms()
    {
        final String registry = registry();
        final Node a = node(registry, "a", "");
        final Node b = node(registry, "b", "");
        final Node c = node(registry, "c", "");
        final RegistryClient observer = observer(registry);
        for (long vm = 1; vm <= 6; vm++)
        {
            a.cluster().admit(hostOf(a), vm, 1, new IdleGuest());
        }
        await("6 VMs on node a", 30, () -> a.cluster().host(hostOf(a)).vmCount() == 6);

        b.cluster().drain(hostOf(a)); // asked at another node: the registry holds it, node a follows
        await("node a to empty", 60, () ->
        {
            for (long vm = 1; vm <= 6; vm++)
            {
                final int owner = observer.query(vm).owner();
                if (owner == a.hostId() + 1 || owner == 0)
                {
                    return false;
                }
            }
            return a.cluster().host(hostOf(a)).vmCount() == 0;
        });
        // nothing goes back: an admission there is refused (by node a's copy, or by the registry)
        refused(7, () -> a.cluster().admit(hostOf(a), 7, 1, new IdleGuest()), "draining");
        assertEquals(RegistryStatus.ABSENT, observer.query(7).status());
        assertTrue(observer.placement().statements().contains("drain " + hostOf(a)));
        c.cluster().undrain(hostOf(a));
        await("node a to take VMs again", 30, () -> !a.cluster().drains().stream().findAny().isPresent());
        a.cluster().admit(hostOf(a), 8, 1, new IdleGuest());
        await("vm 8 admitted on node a", 30, () -> observer.query(8).owner() == a.hostId() + 1);
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * A node sees only its own VMs, yet judges a target by where the partners of its VMs run: it learns that
     * from the registry. Vm 2 (node a) may not join vm 1 (node b); with balancing off node a sees its idle peers
     * equally light and takes the first, node b, so a drain of node a that did not know where vm 1 runs would send
     * vm 2 to node b again and again, refused each time.
     */
    @Test
    void aDrainSendsAVmWhereItsPartnersOnOtherNodesAllowIt()
    {
        final String registry = registry();
        final Node a = node(registry, "a", "");
        final Node b = node(registry, "b", "");
        final Node c = node(registry, "c", "");
        final RegistryClient observer = observer(registry);
        for (final Node node : List.of(a, b, c))
        {
            node.cluster().balancing(false); // no VM moves but the drained one's
        }
        b.cluster().admit(hostOf(b), 1, 1, new IdleGuest());
        a.cluster().admit(hostOf(a), 2, 1, new IdleGuest());
        await("vms 1 and 2 owned", 30, () -> observer.query(1).owner() == b.hostId() + 1 &&
            observer.query(2).owner() == a.hostId() + 1);
        a.cluster().addRule(Rule.antiAffinity("apart", true, 1, 2));

        a.cluster().drain(hostOf(a));
        await("vm 2 to leave node a for node c", 30, () -> observer.query(2).owner() == c.hostId() + 1);
        assertEquals(b.hostId() + 1, observer.query(1).owner(), "vm 1 stays on node b");
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
