package io.vmsched.cluster;

import io.vmsched.guest.IdleGuest;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.schedule.EntryState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A node that crashed as the source of a migration (SUSPENDED journaled, no outcome) settles it at its restart by
 * the owner registry alone ({@link RegistryCommitPoint}): it resumes the VM only if the registry, after its
 * reclaim, names it the owner; whichever other node and migration the registry names, the VM left.
 */
class NodeRecoveryTest
{
    private static final int HOSTS = 3;
    private static final long VM = 5;
    private static final long MIGRATION = JournalRecord.migrationId(0, 1);

    /** What the registry holds when the node comes back, and what the node must then do. */
    private record Case(String name, NodeModeTest.Table.Entry registry, boolean resumed)
    {
    }

    @Test
    void aSourceResumesAnInDoubtVmOnlyIfTheRegistryLeavesItThere(@TempDir final Path dir)
    {
        final List<Case> cases = List.of(
            new Case("the move never applied", new NodeModeTest.Table.Entry(0, 0, 0), true),
            new Case("the target activated it", new NodeModeTest.Table.Entry(1, MIGRATION, 0), false),
            // the case ClusterProcessesTest found: the target ran it, then moved it on with its own migration
            new Case("it moved on from the target", new NodeModeTest.Table.Entry(2, JournalRecord.migrationId(1, 9), 0),
                false),
            new Case("it moved on, back to the target", new NodeModeTest.Table.Entry(1, JournalRecord.migrationId(2, 4), 0),
                false));
        for (final Case c : cases)
        {
            final Path data = dir.resolve(c.name().replace(' ', '-'));
            crashedSource(data);
            final NodeModeTest.Table table = new NodeModeTest.Table();
            table.entries.put(VM, c.registry());
            final NodeModeTest.Wire wire = new NodeModeTest.Wire(new InJvmTransport(HOSTS));
            final ClusterConfig config = ClusterConfig.of(HOSTS, data);
            config.localHost = 0;
            config.owners = new NodeModeTest.Owners(table);
            config.transports = h -> wire;
            config.host.balancing = false;
            config.host.balance = new io.vmsched.balance.BalanceConfig();
            config.host.balance.view = io.vmsched.balance.BalanceConfig.PeerView.GOSSIP;
            try (Cluster node = Cluster.start(config))
            {
                assertEquals(c.resumed() ? Map.of(VM, 0) : Map.of(), node.placement(), c.name());
                if (c.resumed())
                {
                    final int state = node.host(0).schedule().stateOf(VM);
                    assertTrue(state == EntryState.RUNNABLE || state == EntryState.RUNNING, c.name() + ": it runs, " + state);
                    assertEquals(0, table.get(VM).owner(), c.name());
                    assertTrue(table.get(VM).fence() >= MIGRATION, c.name() + ": the reclaim fences a late move");
                }
                else
                {
                    assertEquals(c.registry(), table.get(VM), c.name() + ": the registry is left as it was");
                }
            }
            final List<RecordType> types = types(data);
            assertEquals(List.of(RecordType.RESOLVED, c.resumed() ? RecordType.ABORTED : RecordType.COMMITTED),
                types.subList(types.indexOf(RecordType.SUSPENDED) + 1, types.size()), c.name() + ": " + types);
        }
    }

    /** A node 0 journal as a crash leaves it: vm 5 admitted, its migration to host 1 suspended, no outcome. */
    private static void crashedSource(final Path data)
    {
        final IdleGuest guest = new IdleGuest();
        final byte[] kind = guest.kind().getBytes(StandardCharsets.UTF_8);
        try (ChronicleJournal journal = ChronicleJournal.open(data.resolve("journal").resolve("0"), 0))
        {
            journal.append(RecordType.HOST_STARTED, 0, -1, -1, 0, 0, 0);
            journal.appendGuest(RecordType.ADMITTED, 0, VM, -1, 1, kind, guest.snapshot());
            journal.append(RecordType.MIGRATION_INTENT, MIGRATION, VM, 1, 0, 0.5, 0.1);
            journal.appendGuest(RecordType.SUSPENDED, MIGRATION, VM, 1, 1, kind, guest.snapshot());
        }
    }

    private static List<RecordType> types(final Path data)
    {
        final List<RecordType> types = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(data.resolve("journal").resolve("0"), 0))
        {
            journal.replay((index, record) ->
            {
                if (record.vmId() == VM)
                {
                    types.add(record.type());
                }
            });
        }
        return types;
    }
}
