package io.vmsched.cluster;

import io.vmsched.vm.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static io.vmsched.dispatch.Await.until;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A hypervisor's VM live-migrated between two nodes ({@link FakeHypervisor}; the registry and the wire of
 * {@link NodeModeTest}): the target's copy holds the VM paused until the registry applies the move, then runs; a
 * move the registry refuses has the paused copy quit and the source's run again. Never two running copies.
 */
class NodeLiveMigrationTest
{
    private static ClusterConfig node(final Path dir, final int host, final NodeModeTest.Wire wire,
        final NodeModeTest.Owners owners, final NodeModeTest.Events events, final FakeHypervisor world)
    {
        return node(dir, host, wire, owners, events, world, false);
    }

    private static ClusterConfig node(final Path dir, final int host, final NodeModeTest.Wire wire,
        final NodeModeTest.Owners owners, final NodeModeTest.Events events, final FakeHypervisor world,
        final boolean balancing)
    {
        final ClusterConfig config = NodeModeTest.node(dir, host, wire, owners, events, balancing);
        config.host.vmDriver = world::driver;
        return config;
    }

    @Test
    void theRegistryAppliesTheMoveBeforeTheCopyRuns(@TempDir final Path dir)
    {
        final FakeHypervisor world = new FakeHypervisor();
        final NodeModeTest.Table table = new NodeModeTest.Table();
        final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(2));
        final NodeModeTest.Events events0 = new NodeModeTest.Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new NodeModeTest.Owners(table), events0, world));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new NodeModeTest.Owners(table), new NodeModeTest.Events(), world)))
        {
            final long pid = world.start();
            node0.adoptVm(0, 5, "vm", Path.of("/fake/vm.qmp"), pid);
            until("admitted", 10, () -> node0.host(0).vmCount() == 1); // placement() shows the reservation before
            synchronized (table)
            {
                table.holding = true; // the registry is slow: the copy waits for it, paused
            }
            node0.migrate(5, 1);
            until("the copy holds the VM and waits for the registry", 10, () -> node1.host(1).arrivingCount() == 1);
            assertEquals(0, world.running(), "the source's copy is POSTMIGRATE and the target's PAUSED: none runs yet");
            table.release(c -> true);
            until("moved", 10, () -> events0.migrated.size() == 1);
            assertEquals(1, table.get(5L).owner());
            assertEquals(Map.of(5L, 1), node1.placement());
            until("the source's copy is quit", 10, () -> world.states.get(pid) == VmState.Kind.GONE);
            assertTrue(world.running() <= 1, "never two copies running");
            // the target acks before its copy's cont returns: the source's copy may be gone first
            until("exactly one copy runs: the target's", 10, () -> world.running() == 1);
            assertTrue(events0.errors.isEmpty(), events0.errors::toString);
        }
    }

    @Test
    void aMoveTheRegistryRefusesHasThePausedCopyQuitAndTheSourceRunsAgain(@TempDir final Path dir)
    {
        final FakeHypervisor world = new FakeHypervisor();
        final NodeModeTest.Table table = new NodeModeTest.Table();
        final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(2));
        final NodeModeTest.Events events0 = new NodeModeTest.Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new NodeModeTest.Owners(table), events0, world));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new NodeModeTest.Owners(table), new NodeModeTest.Events(), world)))
        {
            final long pid = world.start();
            node0.adoptVm(0, 5, "vm", Path.of("/fake/vm.qmp"), pid);
            until("admitted", 10, () -> node0.host(0).vmCount() == 1); // placement() shows the reservation before
            synchronized (table)
            {
                table.holding = true;
            }
            node0.migrate(5, 1);
            try
            {
                until("the copy waits for the registry", 10, () -> node1.host(1).arrivingCount() == 1);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError(ex.getMessage() + ": " + events0.aborted + " " + events0.errors + " " +
                    events0.failed + " " + world.states + " " + table.held.size(), ex);
            }
            // the source reclaims first (as after a partition): the registry refuses the target's move
            new NodeModeTest.Owners(table).reclaim(5, Long.MAX_VALUE); // host 0's: fences every move of vm 5
            table.release(c -> true);
            until("aborted", 10, () -> events0.aborted.size() == 1);
            assertEquals(0, table.get(5L).owner());
            until("the source's copy runs again", 10, () -> world.states.get(pid) == VmState.Kind.RUNNING);
            until("the target's paused copy is quit", 10, () -> world.running() == 1 &&
                world.states.values().stream().noneMatch(k -> k == VmState.Kind.PAUSED));
            assertEquals(Map.of(5L, 0), node0.placement());
            assertEquals(Map.of(), node1.placement());
        }
    }

    /**
     * A node's messages are best effort: a PREPARED, then an ACK, lost on the way cost a handoff timeout each (the
     * source sends the transfer again; the target answers it with PREPARED again, then with its outcome), not the
     * migration timeout (two minutes by default: the VM would wait paused that long for the lost ACK).
     */
    @Test
    void aLostPreparedOrAnswerIsSentAgainAtTheNextTransfer(@TempDir final Path dir)
    {
        final FakeHypervisor world = new FakeHypervisor();
        final NodeModeTest.Table table = new NodeModeTest.Table();
        final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(2));
        final NodeModeTest.Events events0 = new NodeModeTest.Events();
        final java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        wire.loseType = type -> (type == io.vmsched.handoff.HostMessages.PREPARED && lost.compareAndSet(0, 1)) ||
            (type == io.vmsched.handoff.HostMessages.ACK && lost.compareAndSet(1, 2));
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new NodeModeTest.Owners(table), events0, world));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new NodeModeTest.Owners(table), new NodeModeTest.Events(), world)))
        {
            final long pid = world.start();
            node0.adoptVm(0, 5, "vm", Path.of("/fake/vm.qmp"), pid);
            until("admitted", 10, () -> node0.host(0).vmCount() == 1);
            node0.migrate(5, 1);
            until("moved", 10, () -> events0.migrated.size() == 1); // well within the 120 s migration timeout
            assertEquals(2, lost.get(), "a PREPARED and an ACK were lost");
            assertEquals(Map.of(5L, 1), node1.placement());
            until("the source's copy is quit", 10, () -> world.states.get(pid) == VmState.Kind.GONE);
            assertTrue(world.running() <= 1, "never two copies running");
            // the target acks before its copy's cont returns: the source's copy may be gone first
            until("exactly one copy runs: the target's", 10, () -> world.running() == 1);
            assertTrue(events0.aborted.isEmpty(), events0.aborted::toString);
        }
    }

    /**
     * A live migration lasts many balance periods (here 1.5 s, 15 periods): the source counts the VM at its target
     * from the start, so it sends away no more than the difference calls for, and the VMs do not go back and forth
     * (counted at the source until the commit, all three left, then came back, again and again).
     */
    @Test
    void aLiveMigrationWaitingForItsHypervisorLeavesTheProcessCool(@TempDir final Path dir)
    {
        final FakeHypervisor world = new FakeHypervisor();
        world.migrationNs = 60_000_000_000L; // ended by the test
        final NodeModeTest.Table table = new NodeModeTest.Table();
        final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(2));
        final NodeModeTest.Events events0 = new NodeModeTest.Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new NodeModeTest.Owners(table), events0, world));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new NodeModeTest.Owners(table), new NodeModeTest.Events(), world)))
        {
            final long pid = world.start();
            node0.adoptVm(0, 5, "vm", Path.of("/fake/vm.qmp"), pid);
            until("admitted", 10, () -> node0.host(0).vmCount() == 1);
            node0.migrate(5, 1);
            until("the hypervisor migrates", 10, () -> world.migrations.containsKey(pid));
            try
            {
                // heat is for a peer's message; QEMU's copying takes the cores a hot process's parks would
                until("the process cools while the hypervisor copies", 10, () -> !io.vmsched.dispatch.Idle.hot());
                assertTrue(events0.migrated.isEmpty(), "still migrating");
            }
            finally
            {
                world.migrationNs = 0; // the next poll ends it
            }
            until("moved", 10, () -> events0.migrated.size() == 1);
            until("exactly one copy runs: the target's", 10, () -> world.running() == 1);
            assertTrue(events0.errors.isEmpty(), events0.errors::toString);
        }
    }

    @Test
    void theBalancerCountsALiveMigrationAtItsTargetFromItsStart(@TempDir final Path dir)
    {
        final FakeHypervisor world = new FakeHypervisor();
        world.migrationNs = 1_500_000_000L;
        final NodeModeTest.Table table = new NodeModeTest.Table();
        final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(2));
        final NodeModeTest.Events events0 = new NodeModeTest.Events();
        final NodeModeTest.Events events1 = new NodeModeTest.Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new NodeModeTest.Owners(table), events0, world, true));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new NodeModeTest.Owners(table), events1, world, true)))
        {
            node0.peer(1, new HostConfig().capacity());
            node1.peer(0, new HostConfig().capacity());
            for (long vm = 1; vm <= 3; vm++)
            {
                node0.adoptVm(0, vm, "vm" + vm, Path.of("/fake/vm" + vm + ".qmp"), world.start());
                node0.programLoad(vm, 0.3, 0, 0);
            }
            until("a VM moved to node 1", 20, () -> events0.migrated.size() >= 1);
            java.util.concurrent.locks.LockSupport.parkNanos(8_000_000_000L); // five more migrations' time
            final int moves = events0.migrated.size() + events1.migrated.size();
            assertTrue(moves <= 2, "at most one move more than the one the difference calls for, not back and forth: " +
                moves + " moves");
            assertEquals(3, node0.placement().size() + node1.placement().size());
            assertFalse(node0.placement().isEmpty() || node1.placement().isEmpty(), "spread: " + node0.placement() +
                " " + node1.placement());
            assertEquals(3, world.running(), "one copy of each VM runs");
        }
    }
}
