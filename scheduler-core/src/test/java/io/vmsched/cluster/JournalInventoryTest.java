package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import io.vmsched.forecast.CapacityForecast;
import io.vmsched.forecast.CapacityOutlook;
import io.vmsched.guest.IdleGuest;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.LoadSnapshot;
import io.vmsched.journal.RecordType;
import io.vmsched.placement.Inventory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The inventory and its forecasts read back from the journals: what a live cluster's hosts journal agrees
 * with {@link Cluster#inventory}, and the forecasts of a history written with known figures say what
 * that history implies.
 */
class JournalInventoryTest
{
    private static final double GIB = 1024.0 * 1024 * 1024;

    @Test
    void theJournalsOfALiveClusterHoldItsInventoryAndItsDrains(@TempDir final Path dir)
    {
        final ClusterConfig config = ClusterConfig.of(2, dir);
        config.host.balancing = false;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.loadSnapshotPeriodNs = 20_000_000L;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 1; vm <= 3; vm++)
            {
                cluster.admit(0, vm, 1, new IdleGuest());
            }
            Await.until("admitted", 20, () -> cluster.host(0).vmCount() == 3);
            cluster.programLoad(1, 0.25, 1e6, 2 * GIB);
            cluster.programLoad(2, 0.25, 1e6, GIB);
            cluster.drain(1);
            // read beside the running cluster, as vmsched inventory does: the programmed figures arrive
            Await.until("the programmed load journaled", 20, () ->
            {
                final JournalInventory records;
                try
                {
                    records = JournalInventory.read(dir);
                }
                catch (final IllegalArgumentException ex)
                {
                    return false; // no host has journaled a snapshot yet
                }
                if (records.hosts().length < 2)
                {
                    return false;
                }
                final Inventory.Row host0 = records.inventory(1, 0, 0).hosts().get(0);
                return Math.abs(host0.cpu().required() - cluster.inventory(1, 0, 0).hosts().get(0).cpu().required()) < 1e-9 &&
                    host0.memory().required() >= 3 * GIB - 1;
            });
            // both hosts' last snapshots after the drain (host 1's records it closed)
            final long drained = System.currentTimeMillis() * 1_000_000L;
            Await.until("both hosts journaled after the drain", 20, () ->
            {
                final JournalInventory records = JournalInventory.read(dir);
                return records.hosts().length == 2 && records.lastNs() > drained + 2 * config.host.loadSnapshotPeriodNs;
            });
            final Inventory journaled = JournalInventory.read(dir).inventory(0.25, 0, GIB);
            final Inventory live = cluster.inventory(0.25, 0, GIB);
            assertEquals(2, journaled.hosts().size());
            final Inventory.Row h0 = journaled.hosts().get(0);
            assertEquals(3, h0.vms());
            assertEquals(live.hosts().get(0).cpu().capacity(), h0.cpu().capacity(), 1e-9);
            assertEquals(live.hosts().get(0).memory().capacity(), h0.memory().capacity(), 1e-9);
            assertEquals(live.hosts().get(0).memory().required(), h0.memory().required(), 1);
            assertEquals(live.hosts().get(0).headroom(), h0.headroom(), "the same VMs fit: " + journaled.toText());
            final Inventory.Row h1 = journaled.hosts().get(1);
            assertNotNull(h1.closed(), "the drain is read from the placement journal");
            assertEquals(0, h1.headroom(), "a drained host fits nothing");
            assertEquals(h0.headroom(), journaled.cluster().headroom());
        }
    }

    @Test
    void aHistoryThatGrowsRunsOutWhenItsTrendSaysAndTheClusterNeedsMoreHosts(@TempDir final Path dir)
    {
        // host 0: CPU required grows by 0.02 cores a minute from 0.5, 120 minutes; host 1 keeps 1 core for
        // 60 minutes, then journals nothing (its last value holds)
        write(dir, 0, 120, i -> 0.5 + 0.02 * i);
        write(dir, 1, 60, i -> 1.0);
        final JournalInventory records = JournalInventory.read(dir);
        assertEquals(60_000_000_000L, records.snapshotPeriodNs());
        final CapacityOutlook outlook = records.forecast(60_000_000_000L, 30, 1440, 0.8);
        assertEquals(120, outlook.historySteps());
        assertEquals(0, outlook.season(), "two days are needed for a daily season");
        final CapacityOutlook.Resource cpu0 = outlook.hosts().get(0).resources()[0];
        assertEquals(0.5 + 0.02 * 119, cpu0.now(), 1e-9);
        assertEquals(4.0, cpu0.limit(), 1e-9);
        // 2.88 + 0.02 h reaches 4 at h = 56
        assertTrue(Math.abs(cpu0.stepsToFull() - 56) <= 1, "host 0 full in " + cpu0.stepsToFull() + " steps");
        assertEquals(CapacityForecast.NEVER, outlook.hosts().get(1).resources()[0].stepsToFull(), "host 1 stays at 1 core");
        assertEquals(CapacityForecast.NEVER, outlook.hosts().get(0).resources()[2].stepsToFull(), "no memory is required");
        final CapacityOutlook.Resource cpu = outlook.cluster().resources()[0];
        assertEquals(8.0, cpu.limit(), 1e-9);
        // the cluster's peak over 30 steps: 3.88 + 0.6 = 4.48 cores, hosts of 4 cores at 80 %: 2
        assertEquals(4.48, cpu.peak(), 0.02);
        assertEquals(2, cpu.hostsNeeded());
        assertEquals(2, outlook.hostsNeeded());
        assertTrue(outlook.toText().contains("hosts of today's size needed over the next 30.0 min: 2"), outlook.toText());

        final IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
            () -> records.forecast(60_000_000_000L, 0, 0, 0.8));
        assertTrue(none.getMessage().contains("is none"), none.getMessage());
        final IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
            () -> records.forecast(60_000_000_000L, 121, 0, 0.8));
        assertTrue(beyond.getMessage().contains("beyond the history"), beyond.getMessage());
    }

    @Test
    void aDirectoryWithoutLoadRecordsIsSaidSo(@TempDir final Path dir)
    {
        try (ChronicleJournal journal = new ChronicleJournal(dir.resolve("journal").resolve("0"), 0, () -> 1L))
        {
            journal.append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 0, 0.5, 0); // as journaled before the figures
        }
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> JournalInventory.read(dir));
        assertTrue(ex.getMessage().contains("holds no load records"), ex.getMessage());
        final IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
            () -> JournalInventory.read(dir.resolve("nothing")));
        assertTrue(empty.getMessage().contains("holds no journals"), empty.getMessage());
    }

    /** Journal {@code minutes} snapshots a minute apart of a 4-core, 16 GiB host requiring {@code cpu(i)} cores. */
    static void write(final Path dataDir, final int host, final int minutes, final java.util.function.IntToDoubleFunction cpu)
    {
        final long[] now = { 1_700_000_000_000_000_000L };
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[LoadSnapshot.LENGTH]);
        final LoadSnapshot snapshot = new LoadSnapshot();
        try (ChronicleJournal journal = new ChronicleJournal(dataDir.resolve("journal").resolve(Integer.toString(host)), host,
            () -> now[0]))
        {
            for (int i = 0; i < minutes; i++)
            {
                now[0] = 1_700_000_000_000_000_000L + i * 60_000_000_000L;
                snapshot.wrapForWrite(buffer, 0).maxVms(0);
                final double[][] figures = { { 4, 0, 1, cpu.applyAsDouble(i), cpu.applyAsDouble(i) }, { 1e9, 0, 1, 0, 0 },
                    { 16 * GIB, 0, 1, 0, 0 } };
                for (int r = 0; r < 3; r++)
                {
                    for (int f = 0; f < 5; f++)
                    {
                        snapshot.set(r, f, figures[r][f]);
                    }
                }
                journal.appendPayload(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 4, 0, 0, buffer, 0, LoadSnapshot.LENGTH);
            }
        }
    }
}
