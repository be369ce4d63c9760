package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.dispatch.Await;
import io.vmsched.guest.IdleGuest;
import io.vmsched.handoff.HostMessages;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.load.LoadWeights;
import io.vmsched.schedule.EntryState;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hosts as nodes ({@link ClusterConfig#localHost}): two {@link Cluster}s of one host each, joined by a
 * transport, with an owner registry deciding every admission, move and reclaim. The registry here is a
 * small in-test one with the rules of module cluster-aeron's (a move applies iff the source still owns
 * the VM and has not reclaimed that migration; a reclaim iff the caller owns it), whose answers can be
 * held back to stage the races; the Aeron one is tested over Aeron in that module.
 */
class NodeModeTest
{
    private static final int HOSTS = 2;

    /** The owner table, shared by the nodes' registries; answers may be held back, then let go in an order. */
    static final class Table
    {
        record Entry(int owner, long migrationId, long fence)
        {
        }

        final Map<Long, Entry> entries = new HashMap<>();
        final List<Runnable> held = new ArrayList<>();
        boolean holding;

        synchronized void submit(final Runnable command)
        {
            if (holding)
            {
                held.add(command);
            }
            else
            {
                command.run();
            }
        }

        /** Apply what was held: those the filter picks first, then the rest, in arrival order. */
        void release(final java.util.function.Predicate<Runnable> first)
        {
            final List<Runnable> commands;
            synchronized (this)
            {
                holding = false;
                commands = new ArrayList<>(held);
                held.clear();
            }
            commands.stream().filter(first).forEach(Runnable::run);
            commands.stream().filter(first.negate()).forEach(Runnable::run);
        }

        synchronized Entry get(final long vmId)
        {
            return entries.get(vmId);
        }
    }

    /** One node's registry: commands applied to the shared table, answers written to the node's inbox. */
    static final class Owners implements OwnerRegistry
    {
        final Table table;
        final List<String> released = new CopyOnWriteArrayList<>();
        private RingBuffer inbox;
        private int host;

        Owners(final Table table)
        {
            this.table = table;
        }

        /** A command with its kind, so a test can order held ones. */
        record Command(int kind, Runnable body) implements Runnable
        {
            @Override
            public void run()
            {
                body.run();
            }
        }

        @Override
        public void attach(final int hostId, final RingBuffer inbox)
        {
            this.host = hostId;
            this.inbox = inbox;
        }

        @Override
        public boolean requestAdmit(final long vmId)
        {
            table.submit(new Command(ADMIT, () ->
            {
                final Table.Entry entry;
                synchronized (table)
                {
                    entry = table.entries.putIfAbsent(vmId, new Table.Entry(host, 0, 0));
                }
                answer(ADMIT, entry == null, vmId, 0, entry == null ? host : entry.owner(), 0);
            }));
            return true;
        }

        @Override
        public boolean requestMove(final long vmId, final int fromHost, final long migrationId, final long tenureFence)
        {
            table.submit(new Command(MOVE, () ->
            {
                final boolean applied;
                final Table.Entry after;
                synchronized (table)
                {
                    final Table.Entry entry = table.entries.get(vmId);
                    applied = entry != null && entry.owner() == fromHost && migrationId > entry.fence();
                    if (applied)
                    {
                        table.entries.put(vmId, new Table.Entry(host, migrationId, tenureFence));
                    }
                    after = table.entries.get(vmId);
                }
                answer(MOVE, applied, vmId, migrationId, after.owner(), after.migrationId());
            }));
            return true;
        }

        @Override
        public boolean requestReclaim(final long vmId, final long migrationId)
        {
            table.submit(new Command(RECLAIM, () ->
            {
                final Owner after = reclaim(vmId, migrationId);
                answer(RECLAIM, after.host == host && after.migrationId == migrationId, vmId, migrationId, after.host,
                    after.migrationId);
            }));
            return true;
        }

        @Override
        public boolean requestRelease(final long vmId)
        {
            synchronized (table)
            {
                final Table.Entry entry = table.entries.get(vmId);
                if (entry != null && entry.owner() == host)
                {
                    table.entries.remove(vmId);
                    released.add(Long.toString(vmId));
                }
            }
            return true;
        }

        @Override
        public Owner owner(final long vmId)
        {
            final Table.Entry entry = table.get(vmId);
            return entry == null ? new Owner(-1, 0) : new Owner(entry.owner(), entry.migrationId());
        }

        @Override
        public Owner reclaim(final long vmId, final long migrationId)
        {
            synchronized (table)
            {
                final Table.Entry entry = table.entries.get(vmId);
                if (entry != null && entry.owner() == host)
                {
                    table.entries.put(vmId, new Table.Entry(host, migrationId, Math.max(entry.fence(), migrationId)));
                }
                final Table.Entry after = table.entries.get(vmId);
                return after == null ? new Owner(-1, 0) : new Owner(after.owner(), after.migrationId());
            }
        }

        private void answer(final int kind, final boolean applied, final long vmId, final long migrationId, final int owner,
            final long ownerMigration)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.OwnerAnswer.LENGTH]);
            new HostMessages.OwnerAnswer().wrap(buffer, 0).set(kind, applied, vmId, migrationId, owner, ownerMigration);
            while (!inbox.write(HostMessages.OWNER_ANSWER, buffer, 0, buffer.capacity()))
            {
                Thread.onSpinWait();
            }
        }

        @Override
        public void close()
        {
        }
    }

    /** The wire between the nodes: a shared in-JVM transport, with a filter that may lose messages. */
    static final class Wire implements Transport
    {
        final InJvmTransport shared;
        volatile IntPredicate loseType = type -> false;
        volatile int peersRun = 1; // every peer's, as Transport.peerIncarnation says it
        final java.util.concurrent.atomic.AtomicIntegerArray sent = new java.util.concurrent.atomic.AtomicIntegerArray(64);

        Wire(final InJvmTransport shared)
        {
            this.shared = shared;
        }

        @Override
        public void attach(final int hostId, final RingBuffer inbox)
        {
            shared.attach(hostId, inbox);
        }

        @Override
        public void detach(final int hostId)
        {
            shared.detach(hostId);
        }

        @Override
        public boolean send(final int toHost, final int type, final DirectBuffer buffer, final int offset, final int length)
        {
            if (type > 0 && type < sent.length())
            {
                sent.incrementAndGet(type);
            }
            return loseType.test(type) || shared.send(toHost, type, buffer, offset, length); // lost on the way: "sent"
        }

        @Override
        public int peerIncarnation(final int host)
        {
            return peersRun;
        }

        @Override
        public void close()
        {
        }
    }

    static final class Events implements ClusterListener
    {
        final List<String> aborted = new CopyOnWriteArrayList<>();
        final List<Long> migrated = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final List<String> failed = new CopyOnWriteArrayList<>();

        @Override
        public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
        {
            migrated.add(vmId);
        }

        @Override
        public void onAborted(final long vmId, final int source, final int target, final String reason)
        {
            aborted.add(vmId + ": " + reason);
        }

        @Override
        public void onRequestFailed(final int host, final Request request, final long vmId, final String reason)
        {
            failed.add(vmId + ": " + reason);
        }

        @Override
        public void onError(final int host, final Throwable error)
        {
            errors.add(error);
        }
    }

    static ClusterConfig node(final Path dir, final int host, final Wire wire, final Owners owners,
        final Events events, final boolean balancing)
    {
        final ClusterConfig config = ClusterConfig.of(HOSTS, dir.resolve("node" + host));
        config.localHost = host;
        config.owners = owners;
        config.transports = h -> wire;
        config.listener = events;
        config.host.balance = new BalanceConfig();
        config.host.balance.view = BalanceConfig.PeerView.GOSSIP;
        config.host.balance.peerChoices = 1;
        config.host.balance.thresholdFraction = 0.10;
        config.host.balance.maxMovesPerExchange = 1;
        config.host.balance.validate();
        config.host.balancing = balancing;
        config.host.balancePeriodNs = 100_000_000L;
        config.host.handoffTimeoutNs = 100_000_000L;
        config.host.weights = LoadWeights.CPU_ONLY;
        return config;
    }

    private static List<RecordType> types(final Path dataDir, final int host, final long vmId)
    {
        final List<RecordType> types = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dataDir.resolve("journal").resolve(Integer.toString(host)), host))
        {
            journal.replay((index, record) ->
            {
                if (record.vmId() == vmId)
                {
                    types.add(record.type());
                }
            });
        }
        return types;
    }

    @Test
    void aMigrationBetweenNodesCommitsThroughTheRegistryAndAnAdmissionTakenElsewhereIsRefused(@TempDir final Path dir)
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        final Events events1 = new Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new Owners(table), events0, false));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), events1, false)))
        {
            for (long vm = 1; vm <= 4; vm++)
            {
                node0.admit(0, vm, 1, new IdleGuest());
            }
            Await.until("4 admitted", 10, () -> node0.host(0).vmCount() == 4);
            assertEquals(0, table.get(1L).owner(), "the registry names the admitting node");
            node1.admit(1, 3, 1, new IdleGuest()); // the id is node 0's already
            Await.until("the second admission refused", 10, () -> events1.failed.size() == 1);
            assertTrue(events1.failed.get(0).contains("host 0"), events1.failed.toString());
            assertThrows(IllegalArgumentException.class, () -> node0.admit(1, 9, 1, new IdleGuest()),
                "a node admits on its own host only");

            node0.migrate(2, 1);
            node0.migrate(4, 1);
            Await.until("2 migrations", 10, () -> events0.migrated.size() == 2);
            assertEquals(1, table.get(2L).owner());
            assertEquals(1, table.get(4L).owner());
            assertEquals(JournalRecord.migrationSource(table.get(2L).migrationId()), 0);
            Await.until("node 1 runs both", 10, () -> node1.placement().size() == 2);
            assertEquals(Map.of(1L, 0, 3L, 0), node0.placement(), "a node knows its own VMs only");
            assertEquals(Map.of(2L, 1, 4L, 1), node1.placement());
            assertTrue(events0.errors.isEmpty() && events1.errors.isEmpty(), events0.errors + " " + events1.errors);
        }
        final List<RecordType> target = types(dir.resolve("node1"), 1, 2);
        assertEquals(List.of(RecordType.RECEIVED, RecordType.ACTIVATED), target);
    }

    @Test
    void aLostTransferIsReclaimedAndALateMoveOfItIsRefused(@TempDir final Path dir)
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new Owners(table), events0, false));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), new Events(), false)))
        {
            node0.admit(0, 7, 1, new IdleGuest());
            Await.until("admitted", 10, () -> node0.host(0).vmCount() == 1);
            wire.loseType = type -> type == HostMessages.TRANSFER || type == HostMessages.RESOLVE; // the target hears nothing
            node0.migrate(7, 1);
            Await.until("the source reclaims", 10, () -> events0.aborted.size() == 1);
            assertTrue(events0.aborted.get(0).contains("reclaim"), events0.aborted.toString());
            final Table.Entry entry = table.get(7L);
            assertEquals(0, entry.owner());
            final long migration = entry.fence();
            assertTrue(migration > 0, "the reclaim fenced the migration");
            final HostRuntime host0 = node0.host(0);
            Await.until("it runs again", 10, () -> host0.schedule().stateOf(7) == EntryState.RUNNABLE);
            // the transfer arrives late, after all: the registry refuses its move, the target never runs it
            final Owners late = new Owners(table);
            final RingBuffer sink = new org.agrona.concurrent.ringbuffer.OneToOneRingBuffer(new UnsafeBuffer(
                new byte[4096 + org.agrona.concurrent.ringbuffer.RingBufferDescriptor.TRAILER_LENGTH]));
            late.attach(1, sink);
            late.requestMove(7, 0, migration, 0);
            assertEquals(0, table.get(7L).owner(), "a move of a reclaimed migration is refused");
            assertEquals(Map.of(), node1.placement());
        }
        assertEquals(List.of(RecordType.ADMITTED, RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.ABORTED),
            types(dir.resolve("node0"), 0, 7));
    }

    @Test
    void aMoveAndAReclaimRacingLeaveOneOwnerWhicheverTheRegistryAppliesFirst(@TempDir final Path dir)
    {
        for (final int first : new int[] {OwnerRegistry.RECLAIM, OwnerRegistry.MOVE})
        {
            final Path run = dir.resolve("first-" + first);
            final Table table = new Table();
            final Wire wire = new Wire(new InJvmTransport(HOSTS));
            final Events events0 = new Events();
            final Events events1 = new Events();
            try (Cluster node0 = Cluster.start(node(run, 0, wire, new Owners(table), events0, false));
                Cluster node1 = Cluster.start(node(run, 1, wire, new Owners(table), events1, false)))
            {
                node0.admit(0, 5, 1, new IdleGuest());
                Await.until("admitted", 10, () -> node0.host(0).vmCount() == 1);
                synchronized (table)
                {
                    table.holding = true; // the registry is slow: the target's move waits, the source times out
                }
                wire.loseType = type -> type == HostMessages.RESOLVE;
                node0.migrate(5, 1);
                Await.until("a move and a reclaim both asked", 10, () ->
                {
                    synchronized (table)
                    {
                        return table.held.stream().map(c -> ((Owners.Command)c).kind()).distinct().count() == 2;
                    }
                });
                assertEquals(Map.of(), node1.placement(), "the target runs nothing before the registry answers");
                table.release(c -> ((Owners.Command)c).kind() == first);
                final boolean moved = first == OwnerRegistry.MOVE;
                Await.until("the migration settles", 10, () ->
                    (moved ? events0.migrated.size() : events0.aborted.size()) == 1 &&
                    node0.migrationsInFlight() == 0);
                assertEquals(moved ? 1 : 0, table.get(5L).owner());
                Await.until("exactly one node holds it", 10, () ->
                    node0.placement().size() + node1.placement().size() == 1 &&
                    (moved ? node1.placement().containsKey(5L) : node0.placement().containsKey(5L)));
            }
            final List<RecordType> target = types(run.resolve("node1"), 1, 5);
            assertEquals(moved(first) ? List.of(RecordType.RECEIVED, RecordType.ACTIVATED) :
                List.of(RecordType.RECEIVED, RecordType.ABORTED), target, "first " + first);
        }
    }

    @Test
    void aNodeClosingWaitsForAnArrivalsRegistryAnswerSoItIsNotLeftInDoubt(@TempDir final Path dir) throws Exception
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new Owners(table), events0, false)))
        {
            final Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), new Events(), false));
            node0.admit(0, 6, 1, new IdleGuest());
            Await.until("admitted", 10, () -> node0.host(0).vmCount() == 1);
            synchronized (table)
            {
                table.holding = true; // the registry is slow: the arrival waits for its move
            }
            node0.migrate(6, 1);
            final HostRuntime target = node1.host(1);
            Await.until("node 1 holds the arrival, its move asked", 10, () -> target.arrivingCount() == 1);
            final Thread closer = new Thread(node1::close, "closer");
            closer.start();
            Await.until("node 1 is closing", 10, () ->
            {
                try
                {
                    node1.migrationsInFlight();
                    return false;
                }
                catch (final IllegalStateException closed)
                {
                    return true;
                }
            });
            assertTrue(closer.isAlive(), "close waits for the registry's answer");
            table.release(c -> ((Owners.Command)c).kind() == OwnerRegistry.MOVE);
            closer.join(60_000); // bounded; a loaded 2-core machine has taken over 10 s to close both hosts
            assertFalse(closer.isAlive(), "close returned once the answer came");
            assertEquals(1, table.get(6L).owner());
            Await.until("the source commits", 10, () -> events0.migrated.size() == 1);
        }
        assertEquals(List.of(RecordType.RECEIVED, RecordType.ACTIVATED), types(dir.resolve("node1"), 1, 6),
            "settled before the node closed: nothing in doubt for its next start");
    }

    /** A hypervisor whose VMs run and stay put: it counts what it was asked to do to them. */
    static final class Hypervisor implements io.vmsched.vm.VmDriver
    {
        final java.util.concurrent.atomic.AtomicInteger changes = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public String kind()
        {
            return "test";
        }

        @Override
        public io.vmsched.vm.VmHandle adopt(final String name, final Path control, final long pid)
        {
            return new io.vmsched.vm.VmHandle(name, pid, control, name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                null);
        }

        @Override
        public io.vmsched.vm.VmHandle prepareIncoming(final String name, final byte[] spec)
            throws io.vmsched.vm.VmDriverException
        {
            throw new io.vmsched.vm.VmDriverException(name, "this hypervisor starts no copies");
        }

        @Override
        public void migrate(final io.vmsched.vm.VmHandle source, final String uri)
        {
            changes.incrementAndGet();
        }

        @Override
        public io.vmsched.vm.MigrationStatus migration(final io.vmsched.vm.VmHandle vm)
            throws io.vmsched.vm.VmDriverException
        {
            throw new io.vmsched.vm.VmDriverException(vm.name(), "no migration was started");
        }

        @Override
        public io.vmsched.vm.VmState state(final io.vmsched.vm.VmHandle vm)
        {
            return new io.vmsched.vm.VmState(io.vmsched.vm.VmState.Kind.RUNNING, "running");
        }

        @Override
        public void cancelMigration(final io.vmsched.vm.VmHandle vm)
        {
            changes.incrementAndGet();
        }

        @Override
        public void resume(final io.vmsched.vm.VmHandle vm)
        {
            changes.incrementAndGet();
        }

        @Override
        public void stop(final io.vmsched.vm.VmHandle vm)
        {
            changes.incrementAndGet();
        }

        @Override
        public void remove(final io.vmsched.vm.VmHandle vm)
        {
            changes.incrementAndGet();
        }

        @Override
        public void close()
        {
        }
    }

    @Test
    void aClosingNodeReclaimsALiveMigrationsVmWhoseTargetNeverPreparedACopyRatherThanLeaveItInDoubt(
        @TempDir final Path dir)
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        final Hypervisor hypervisor = new Hypervisor();
        final ClusterConfig config0 = node(dir, 0, wire, new Owners(table), events0, false);
        config0.host.vmDriver = host -> hypervisor;
        config0.host.vmMigrationTimeoutNs = 600_000_000_000L; // far past the test: never waited out here
        try (Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), new Events(), false)))
        {
            final Cluster node0 = Cluster.start(config0);
            try
            {
                node0.adoptVm(0, 8, "vm-8", dir.resolve("vm-8.qmp"), ProcessHandle.current().pid());
                Await.until("adopted", 10, () -> node0.host(0).vmCount() == 1);
                // dropped on the way, as a target that restarted drops a frame meant for its previous run
                wire.loseType = type -> type == HostMessages.TRANSFER;
                node0.migrate(8, 1);
                Await.until("the migration under way", 10, () -> node0.migrationsInFlight() == 1);
            }
            finally
            {
                node0.close(); // the target never prepares a copy: the registry settles it, not a 600 s timeout
            }
        }
        assertEquals(List.of(RecordType.ADMITTED, RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.ABORTED),
            types(dir.resolve("node0"), 0, 8), "settled before the node closed: nothing in doubt for its next start");
        assertEquals(1, events0.aborted.size(), events0.aborted.toString());
        assertTrue(events0.aborted.get(0).contains("reclaim"), events0.aborted.toString());
        assertEquals(0, table.get(8L).owner(), "the registry still names the source");
        assertEquals(0, hypervisor.changes.get(), "the VM never paused, nor was it asked to");
        assertEquals(List.of(RecordType.ABORTED), types(dir.resolve("node1"), 1, 8),
            "the target was asked to resolve it too: refused for good, so a late transfer cannot activate it");
    }

    @Test
    void aLiveMigrationsTransferIsSentAgainAsSoonAsItsTargetIsLearntToHaveRestarted(@TempDir final Path dir)
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        final ClusterConfig config0 = node(dir, 0, wire, new Owners(table), events0, false);
        config0.host.vmDriver = host -> new Hypervisor();
        config0.host.handoffTimeoutNs = 60_000_000_000L; // the resend timer never fires here
        try (Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), new Events(), false)))
        {
            final Cluster node0 = Cluster.start(config0);
            try
            {
                node0.adoptVm(0, 9, "vm-9", dir.resolve("vm-9.qmp"), ProcessHandle.current().pid());
                Await.until("adopted", 10, () -> node0.host(0).vmCount() == 1);
                wire.loseType = type -> type == HostMessages.TRANSFER;
                node0.migrate(9, 1);
                Await.until("the transfer sent, and lost", 10, () -> wire.sent.get(HostMessages.TRANSFER) == 1);
                wire.loseType = type -> false;
                wire.peersRun = 2; // the target restarted: it refused what was sealed for its previous run
                Await.until("the transfer sent again", 10, () -> wire.sent.get(HostMessages.TRANSFER) == 2);
                // the target has no hypervisor: it refuses the VM, which stays
                Await.until("the migration settled", 10, () -> node0.migrationsInFlight() == 0);
            }
            finally
            {
                node0.close();
            }
        }
        assertEquals(2, wire.sent.get(HostMessages.TRANSFER), "sent again once");
        assertEquals(0, table.get(9L).owner());
        assertEquals(1, events0.aborted.size(), events0.aborted.toString());
    }

    private static boolean moved(final int first)
    {
        return first == OwnerRegistry.MOVE;
    }

    @Test
    void twoNodesBalanceByGossipedLoads(@TempDir final Path dir)
    {
        final Table table = new Table();
        final Wire wire = new Wire(new InJvmTransport(HOSTS));
        final Events events0 = new Events();
        try (Cluster node0 = Cluster.start(node(dir, 0, wire, new Owners(table), events0, true));
            Cluster node1 = Cluster.start(node(dir, 1, wire, new Owners(table), new Events(), true)))
        {
            node0.peer(1, new HostConfig().capacity());
            node1.peer(0, new HostConfig().capacity());
            for (long vm = 1; vm <= 8; vm++)
            {
                node0.admit(0, vm, 1, new IdleGuest());
                node0.programLoad(vm, 0.1, 0, 0);
            }
            Await.until("the load spreads to node 1", 30, () -> node1.placement().size() >= 3);
            for (long vm = 1; vm <= 8; vm++)
            {
                final Table.Entry entry = table.get(vm);
                final Map<Long, Integer> where = entry.owner() == 0 ? node0.placement() : node1.placement();
                assertTrue(where.containsKey(vm) || events0.migrated.contains(vm), "vm " + vm + " where the registry says");
            }
        }
    }
}
